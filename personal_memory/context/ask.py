"""Ask a local Ollama model with the personal context, and log the exchange for the trainer.

SEED.md's inference flow end to end: analyze, retrieve, generate, format for Ollama, call the model,
log query + response + the model that answered (the interaction log's ``teacher_model``).
The ``ollama`` client is an optional dependency, imported on use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from personal_memory.context import DEFAULT_MAX_TOKENS
from personal_memory.context.exporters.ollama import chat_request
from personal_memory.context.exporters.plain import DEFAULT_MODEL, Target, chat_messages
from personal_memory.context.formats import fit
from personal_memory.context.profile import build_profile
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.service import MemoryService

if TYPE_CHECKING:
    import ollama

DEFAULT_HOST = "http://127.0.0.1:11434"
# The name `pmem train export-ollama` gives the personal model by default (personal_memory/cli/train.py).
PERSONAL_MODEL = "pmem-plm"


class OllamaError(Exception):
    """Ollama cannot answer: the client is missing, no server runs, or the server refused the request."""


@dataclass(frozen=True, slots=True)
class Answer:
    model: str
    text: str
    memory_ids: list[str]


def _client(host: str, timeout: float) -> ollama.Client:
    try:
        import ollama
    except ImportError as exc:
        raise OllamaError("`pmem ask` needs the Ollama client: run `pip install 'personal-memory[ollama]'`.") from exc
    return ollama.Client(host=host, timeout=timeout)


def personal_model(client: ollama.Client) -> str | None:
    """The user's personal model when Ollama has one registered."""
    names = [m.model or "" for m in client.list().models]
    return next((n for n in names if n.split(":", 1)[0] == PERSONAL_MODEL), None)


def ask(
    service: MemoryService,
    log: InteractionLog,
    query: str,
    model: str | None = None,
    host: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    timeout: float = 300.0,
) -> Answer:
    """Send ``query`` with its context to ``model`` (default: the personal model if registered, else the base)."""
    host = host or DEFAULT_HOST
    client = _client(host, timeout)
    import ollama

    ctx = fit(build_profile(service, query), lambda c: json.dumps(chat_messages(c)), max_tokens).context
    base = model or DEFAULT_MODEL
    try:
        request = chat_request(ctx, Target(model=base, personal_model=None if model else personal_model(client)))
        response = client.chat(model=request["model"], messages=request["messages"], stream=False)
    except ConnectionError as exc:
        raise OllamaError(f"No Ollama server answers at {host}: start one with `ollama serve` or pass --host.") from exc
    except ollama.ResponseError as exc:
        hint = f" Pull the model first: `ollama pull {base}`." if exc.status_code == 404 else ""
        raise OllamaError(f"Ollama at {host} refused the request: {exc.error}.{hint}") from exc
    answer = Answer(model=request["model"], text=response.message.content or "", memory_ids=ctx.memory_ids())
    log.append(
        service.clock(),
        "ask",
        {"query": query, "model": answer.model},
        {"response": answer.text, "messages": request["messages"]},
        answer.memory_ids,
        teacher_model=answer.model,
    )
    return answer
