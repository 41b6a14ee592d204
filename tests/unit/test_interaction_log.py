from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from mcp import Client

from personal_memory.config import load_settings
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.server.app import build_server


def test_log_appends_and_reads_from_a_cursor(tmp_path: Path) -> None:
    log = InteractionLog(tmp_path / "log.sqlite")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    first = log.append(now, "remember", {"content": "x"}, {"id": "a"}, ["a"])
    log.append(now, "recall", {"query": "y"}, {}, [], error="boom")
    assert [i.tool for i in log.read()] == ["remember", "recall"]
    assert [i.tool for i in log.read(after_seq=first)] == ["recall"]
    failed = list(log.read(after_seq=first))[0]
    assert not failed.ok and failed.error == "boom"
    log.close()
    assert InteractionLog(tmp_path / "log.sqlite").count() == 2


@pytest.mark.anyio
async def test_every_tool_call_is_logged_with_the_memory_ids_it_touched() -> None:
    settings = load_settings(embedder="hash")
    server = build_server(settings, warm_up=False)
    async with Client(server) as client:
        stored = await client.call_tool("remember", {"content": "I like hiking in the Alps"})
        await client.call_tool("recall", {"query": "hiking"})
        await client.call_tool("forget", {"memory_id": "not-an-id"})
    memory_id = stored.structured_content["id"]  # type: ignore[index]
    entries = list(InteractionLog(settings.paths.interactions).read())
    assert [(e.tool, e.ok) for e in entries] == [("remember", True), ("recall", True), ("forget", False)]
    assert entries[0].memory_ids == [memory_id] and memory_id in entries[1].memory_ids
    assert entries[0].arguments["content"] == "I like hiking in the Alps"
    assert "not a memory id" in (entries[2].error or "")
