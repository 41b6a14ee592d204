"""Forgetting a memory also takes it out of the interaction log and of the trainer's future training data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client

from personal_memory.cli import main
from personal_memory.config import load_settings
from personal_memory.plm.trainer.extraction import extract
from personal_memory.plm.trainer.store import TrainerStore
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import utcnow
from personal_memory.server.app import build_server

SECRET = "qwxsecret"


@pytest.fixture(autouse=True)
def hash_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")


def _consume(paths: DataPaths) -> None:
    """What the sidecar trainer does: queue what the log teaches, moving its cursor."""
    log, store = InteractionLog(paths.interactions), TrainerStore(paths.trainer)
    for interaction in log.read(after_seq=store.cursor()):
        store.apply(interaction.seq, extract(interaction), utcnow())
    log.close()
    store.close()


def _queued_texts(paths: DataPaths) -> list[str]:
    store = TrainerStore(paths.trainer)
    try:
        return sorted(q.event.text for q in store.pending())
    finally:
        store.close()


def _files_containing(paths: DataPaths, needle: str) -> list[str]:
    folder = paths.home / "data"
    return [p.name for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.anyio
async def test_forget_over_mcp_redacts_the_log_and_drops_the_memory_from_training_data() -> None:
    settings = load_settings()
    paths = settings.paths
    async with Client(build_server(settings, warm_up=False)) as client:
        secret = _data(await client.call_tool("remember", {"content": f"My {SECRET} PIN is 4921"}))
        _data(await client.call_tool("remember", {"content": "I prefer tabs over spaces"}))
        _data(await client.call_tool("recall", {"query": f"what is my {SECRET} PIN"}))
        _data(await client.call_tool("feedback", {"target_id": secret["id"], "rating": "good"}))
        _consume(paths)
        assert _queued_texts(paths) == ["I prefer tabs over spaces", f"My {SECRET} PIN is 4921"]

        _data(await client.call_tool("forget", {"memory_id": secret["id"]}))

    assert _queued_texts(paths) == ["I prefer tabs over spaces"]
    log = InteractionLog(paths.interactions)
    rows = list(log.read())
    log.close()
    assert [r.tool for r in rows] == ["remember", "remember", "recall", "feedback", "forget"]  # seqs keep meaning
    assert all(SECRET not in json.dumps([r.arguments, r.result]) for r in rows)
    assert rows[1].arguments["content"] == "I prefer tabs over spaces"  # other calls are left alone
    assert _files_containing(paths, SECRET) == []


def test_a_trainer_that_read_a_row_before_it_was_redacted_learns_nothing_from_it(paths: DataPaths) -> None:
    log = InteractionLog(paths.interactions)
    store = TrainerStore(paths.trainer)
    now = utcnow()
    log.append(now, "remember", {"content": f"{SECRET} one"}, {"id": "m-1", "status": "created"}, ["m-1"])
    log.append(now, "remember", {"content": "kept two"}, {"id": "m-2", "status": "created"}, ["m-2"])
    stale = list(log.read())  # the trainer read these, then `forget` ran before it stored them
    seqs = log.redact_memory("m-1")
    assert store.forget_memory("m-1", seqs) == 0
    for interaction in stale:
        assert store.apply(interaction.seq, extract(interaction), now)
    assert [q.event.text for q in store.pending()] == ["kept two"] and store.cursor() == 2
    log.close()
    store.close()


def test_pmem_forget_on_the_command_line_drops_the_memory_from_training_data(paths: DataPaths) -> None:
    runner = CliRunner()
    stored = json.loads(runner.invoke(main, ["remember", f"{SECRET} my diagnosis", "--json"]).output)
    log = InteractionLog(paths.interactions)
    log.append(utcnow(), "remember", {"content": f"{SECRET} my diagnosis"}, stored, [stored["id"]])
    log.close()
    _consume(paths)
    assert _queued_texts(paths) == [f"{SECRET} my diagnosis"]

    result = runner.invoke(main, ["forget", stored["id"]], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert _queued_texts(paths) == [] and _files_containing(paths, SECRET) == []
