"""``pmem ingest`` from the shell, the batch remember path, optional Ollama extraction, the bench smoke run."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from personal_memory.ingest.errors import IngestError
from personal_memory.ingest.ollama import OllamaExtractor
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.errors import InvalidMemoryError
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemorySource, MemoryType
from personal_memory.pms.service import MemoryService, NewMemory
from tests.ingest.exports import chatgpt_conversation, write_json


def _pmem(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_pmem_ingest_prints_a_summary_and_a_rerun_adds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    export = write_json(
        tmp_path / "conversations.json", [chatgpt_conversation(1, [("user", "I collect vinyl records. Can you help?")])]
    )
    code, out = _pmem("ingest", "chatgpt", str(export), "--no-progress")
    assert code == 0, out
    assert "datapoints read: 1" in out and "memories created: 1, corroborated: 0" in out and "errors: 0" in out
    code, out = _pmem("ingest", "chatgpt", str(export), "--json")
    summary = json.loads(out)
    assert (summary["already_ingested"], summary["created"], summary["corroborated"]) == (1, 0, 0)
    code, out = _pmem("recall", "vinyl records", "--json")
    assert json.loads(out)[0]["content"] == "I collect vinyl records."


def test_pmem_ingest_dry_run_lists_what_it_would_remember(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    note = tmp_path / "me.md"
    note.write_text("I brew my own beer.\n")
    code, out = _pmem("ingest", "notes", str(note), "--dry-run", "--no-progress")
    assert code == 0 and "would be remembered: I brew my own beer." in out
    assert _pmem("stats", "--json")[1].count('"active": 0') == 3


def test_pmem_ingest_reports_bad_files_and_unknown_sources_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    bad = tmp_path / "conversations.json"
    bad.write_text('[{"title": "cut')
    code, out = _pmem("ingest", "claude", str(bad), "--no-progress")
    assert code == 1 and f"{bad}: is not a valid Claude conversations.json" in out and "Traceback" not in out
    code, out = _pmem("ingest", "myspace", str(bad))
    assert code == 2 and "choose one of: notes, git, chatgpt" in out


class _CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        return super().embed(texts)


def test_remember_many_embeds_the_new_contents_in_one_call(paths: DataPaths) -> None:
    embedder = _CountingEmbedder()
    service = MemoryService(paths, embedder)
    service.remember(NewMemory(content="I speak Welsh."))
    embedder.batches.clear()
    requests = [
        NewMemory(content=c, source=MemorySource(kind="notes", reference=f"n.md:{i}"))
        for i, c in enumerate(["I speak Welsh.", "I row.", "I knit scarves.", "I row."])
    ]
    outcomes = service.remember_many(requests)
    assert [o.created for o in outcomes] == [False, True, True, False]
    assert max(embedder.batches) == 2 and embedder.batches.count(2) == 1  # 'I row.' and 'I knit scarves.' together
    assert outcomes[3].entry.id == outcomes[1].entry.id and outcomes[3].entry.confidence.corroboration_count == 1
    assert outcomes[1].entry.sources[0].reference == "n.md:1"
    service.close()


def test_remember_many_stores_nothing_when_one_request_is_invalid(fake_service: MemoryService) -> None:
    with pytest.raises(InvalidMemoryError):
        fake_service.remember_many([NewMemory(content="I row."), NewMemory(content="  ")])
    assert fake_service.stats()["short_term"]["active"] == 0


@pytest.fixture
def ollama_server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A local HTTP server answering /api/chat as Ollama does; records what it was sent."""
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append({"path": self.path, **json.loads(self.rfile.read(int(self.headers["Content-Length"])))})
            content = json.dumps(
                {
                    "statements": [
                        {"text": "I am a beekeeper", "type": "fact"},
                        {"text": "Bees are insects.", "type": "fact"},
                    ]
                }
            )
            body = json.dumps(
                {"model": "llama3.2", "message": {"role": "assistant", "content": content}, "done": True}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (the base class's name)
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_ollama_extraction_sends_the_text_and_keeps_first_person_statements(
    ollama_server: tuple[str, list[dict[str, object]]],
) -> None:
    url, received = ollama_server
    found = OllamaExtractor("llama3.2", url).statements("Bees are lovely; I keep three hives.")
    assert [(s.text, s.memory_type) for s in found] == [("I am a beekeeper.", MemoryType.FACT)]
    (request,) = received
    assert request["path"] == "/api/chat" and request["model"] == "llama3.2" and request["stream"] is False
    assert request["messages"][1] == {"role": "user", "content": "Bees are lovely; I keep three hives."}  # type: ignore[index]


def test_an_unreachable_ollama_is_a_clear_error() -> None:
    with pytest.raises(IngestError, match="Ollama is not reachable at http://127.0.0.1:9"):
        OllamaExtractor("llama3.2", "http://127.0.0.1:9", timeout_s=2).statements("I row.")


def test_the_bench_runs_at_smoke_size() -> None:
    spec = importlib.util.spec_from_file_location("bench_ingest", Path(__file__).parents[2] / "bench" / "ingest.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--messages", "200", "--embedder", "hash"])
    assert result["datapoints"] == 200 and result["memories"] == 50 and result["datapoints_per_s"] > 0
