"""Optional extraction with a local LLM served by Ollama (off unless a model is configured).

Plain HTTP to the local server's ``/api/chat`` with a JSON-schema ``format``, so the reply is a JSON object
``{"statements": [{"text", "type"}]}``. Each statement still has to pass the rule extractor's first-person
check: the model may rephrase, it may not invent a subject other than the user.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pydantic import BaseModel, ValidationError

from personal_memory.ingest.datapoint import Statement
from personal_memory.ingest.errors import IngestError
from personal_memory.ingest.extraction import is_about_user, normalise
from personal_memory.pms.schema import MemoryType

DEFAULT_URL = "http://127.0.0.1:11434"
PROMPT = (
    "Extract every atomic statement the user makes about themselves from the message below: preferences, facts "
    "about their life, skills, events, beliefs. Write each in the first person, one fact per statement "
    "(e.g. 'I live in Lyon.'). Leave out requests, questions and anything about other people or topics. "
    "Reply with JSON only."
)
_TYPES = [t.value for t in MemoryType]
_SCHEMA = {
    "type": "object",
    "properties": {
        "statements": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "type": {"type": "string", "enum": _TYPES}},
                "required": ["text"],
            },
        }
    },
    "required": ["statements"],
}


class _Found(BaseModel):
    text: str
    type: MemoryType | None = None


class _Reply(BaseModel):
    statements: list[_Found]


class OllamaExtractor:
    """Asks ``model`` on the Ollama server at ``url`` for the statements; one request per datapoint."""

    def __init__(self, model: str, url: str = DEFAULT_URL, timeout_s: float = 120.0) -> None:
        self.model = model
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def _ask(self, text: str) -> str:
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": text}],
            "format": _SCHEMA,
            "stream": False,
            "options": {"temperature": 0},
        }
        request = urllib.request.Request(
            f"{self.url}/api/chat", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                reply = json.load(response)
        except urllib.error.HTTPError as exc:
            raise IngestError(f"Ollama at {self.url} refused the request ({exc.code}): {exc.read()[:200]!r}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise IngestError(
                f"Ollama is not reachable at {self.url} ({exc}); start it with `ollama serve` or drop --ollama-model."
            ) from exc
        except json.JSONDecodeError as exc:
            raise IngestError(f"Ollama at {self.url} answered something that is not JSON: {exc}") from exc
        content = reply.get("message", {}).get("content") if isinstance(reply, dict) else None
        if not isinstance(content, str):
            raise IngestError(f"Ollama at {self.url} answered without a message: {str(reply)[:200]}")
        return content

    def statements(self, text: str) -> list[Statement]:
        try:
            reply = _Reply.model_validate_json(self._ask(text))
        except ValidationError:
            return []  # the model did not follow the schema for this text: nothing usable in it
        kept = ((normalise(s.text), s.type) for s in reply.statements)
        return [Statement(text=t, memory_type=kind) for t, kind in kept if is_about_user(t)]
