"""``pmem context`` and ``pmem ask``; ask talks to a real local HTTP server speaking Ollama's wire format."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from personal_memory.config import load_settings
from personal_memory.pms.interaction_log import InteractionLog

Invoke = Callable[..., tuple[int, str]]


class FakeOllama(ThreadingHTTPServer):
    """Answers ``GET /api/tags`` and ``POST /api/chat`` as Ollama does, and keeps every chat request."""

    def __init__(self, models: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.models = models
        self.chats: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOllama

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        assert self.path == "/api/tags"
        models = [{"name": m, "model": m, "size": 1, "digest": "0" * 64} for m in self.server.models]
        self._reply(200, {"models": models})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        assert self.path == "/api/chat"
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.chats.append(request)
        if request["model"] not in self.server.models:
            self._reply(404, {"error": f"model '{request['model']}' not found"})
            return
        self._reply(200, {
            "model": request["model"], "created_at": "2026-11-25T09:00:00Z",
            "message": {"role": "assistant", "content": "Use composition, as you prefer."},
            "done": True, "done_reason": "stop",
        })

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        pass


@pytest.fixture
def ollama_server() -> Iterator[FakeOllama]:
    server = FakeOllama(["llama3.2:3b"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args))
        return result.exit_code, result.output

    invoke("remember", "I prefer composition over inheritance in Drupal modules", "--type", "preference")
    invoke("remember", "I am allergic to peanuts", "--type", "fact")
    return invoke


@pytest.mark.parametrize("fmt", ["claude", "openai", "ollama", "markdown", "json"])
def test_context_prints_the_query_context_in_every_format(run: Invoke, fmt: str) -> None:
    code, out = run("context", "How should I structure my Drupal module?", "--format", fmt)
    assert code == 0 and "composition over inheritance" in out and "peanuts" not in out


def test_context_for_ollama_names_the_personal_model_given(run: Invoke) -> None:
    code, out = run("context", "Drupal", "--format", "ollama", "--personal-model", "pmem-plm:latest")
    assert code == 0 and json.loads(out)["chat"]["model"] == "pmem-plm:latest"


def test_ask_sends_the_augmented_prompt_to_ollama_and_logs_the_exchange(
    run: Invoke, ollama_server: FakeOllama
) -> None:
    code, out = run("ask", "How should I structure my Drupal module?", "--host", ollama_server.url)
    assert code == 0, out
    assert out.strip() == "Use composition, as you prefer."
    (chat,) = ollama_server.chats
    assert chat["model"] == "llama3.2:3b" and chat["stream"] is False
    system, user = chat["messages"]
    assert system["role"] == "system" and "composition over inheritance" in system["content"]
    assert user == {"role": "user", "content": "How should I structure my Drupal module?"}
    (logged,) = [e for e in InteractionLog(load_settings().paths.interactions).read() if e.tool == "ask"]
    assert logged.teacher_model == "llama3.2:3b" and logged.result["response"] == out.strip()
    assert logged.arguments["query"] == user["content"] and len(logged.memory_ids) == 1


def test_ask_uses_the_personal_model_when_ollama_has_one(run: Invoke, ollama_server: FakeOllama) -> None:
    ollama_server.models.append("pmem-plm:latest")
    assert run("ask", "Drupal?", "--host", ollama_server.url)[0] == 0
    assert run("ask", "Drupal?", "--host", ollama_server.url, "--model", "llama3.2:3b")[0] == 0
    assert [c["model"] for c in ollama_server.chats] == ["pmem-plm:latest", "llama3.2:3b"]


def test_ask_says_plainly_when_the_model_is_missing(run: Invoke, ollama_server: FakeOllama) -> None:
    code, out = run("ask", "Drupal?", "--host", ollama_server.url, "--model", "mistral")
    assert code == 1 and "model 'mistral' not found" in out and "ollama pull mistral" in out


def test_ask_says_plainly_when_no_ollama_server_runs(run: Invoke) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out = run("ask", "Drupal?", "--host", f"http://127.0.0.1:{port}")
    assert code == 1 and "No Ollama server answers" in out and "Traceback" not in out


def test_ask_names_the_install_command_when_the_ollama_client_is_missing(
    run: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ollama", None)  # what an install without the extra looks like to import
    code, out = run("ask", "Drupal?")
    assert code == 1 and "pip install 'personal-memory[ollama]'" in out
