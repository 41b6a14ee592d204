"""The PMS engine through the MCP tools, as a client would meet it: in-memory ``Client(server)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from personal_memory.config import load_settings
from personal_memory.server.app import build_server
from tests.clock import MovableClock

pytestmark = pytest.mark.anyio


async def _call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def _recall_one(client: Client, query: str, memory_id: str) -> dict[str, Any]:
    found = await _call(client, "recall", query=query, limit=20)
    return next(m for m in found["memories"] if m["id"] == memory_id)


async def test_remember_classifies_corroborates_and_flags_contradictions(embedder_cache: Path) -> None:
    server = build_server(load_settings(embedder_cache=embedder_cache), warm_up=False)
    async with Client(server) as client:
        tabs = await _call(client, "remember", content="I prefer tabs for indentation")
        assert (tabs["memory_type"], tabs["truth_category"]) == ("preference", "opinion")
        spaces = await _call(client, "remember", content="I prefer spaces for indentation")
        allergy = await _call(client, "remember", content="I am allergic to peanuts")
        same = await _call(client, "remember", content="I have a peanut allergy")
        tabs_now = await _recall_one(client, "indentation tabs", tabs["id"])
        allergy_now = await _recall_one(client, "peanut allergy", allergy["id"])
    assert spaces["contradicts"] == [tabs["id"]] and same["corroborates"] == [allergy["id"]]
    assert tabs_now["confidence_detail"]["contradiction_count"] == 1
    assert allergy_now["confidence_detail"]["corroboration_count"] == 1
    assert allergy_now["confidence"] > allergy["confidence"] > tabs_now["confidence"]


async def test_validate_tool_promotes_at_once_and_rejects_unknown_ids() -> None:
    server = build_server(load_settings(embedder="hash", promotion_interval_minutes=0), warm_up=False)
    async with Client(server) as client:
        stored = await _call(client, "remember", content="My sister Ana is a pilot")
        validated = await _call(client, "validate", memory_id=stored["id"])
        again = await _call(client, "validate", memory_id=stored["id"])
        unknown = await client.call_tool("validate", {"memory_id": "0b7c1a2e-8d51-4f8e-9d55-1f1f1f1f1f1f"})
    assert validated["tier"] == "long_term" and [m["rule"] for m in validated["moves"]] == ["validated"]
    assert again["tier"] == "long_term" and again["moves"] == []
    assert unknown.is_error


async def test_the_server_promotes_on_its_schedule_with_the_injected_clock() -> None:
    clock = MovableClock()
    settings = load_settings(embedder="hash", promotion_interval_minutes=0.0005)
    server = build_server(settings, warm_up=False, clock=clock)
    async with Client(server) as client:
        kept = await _call(client, "remember", content="I keep bees in the garden")
        clock.advance(days=3, minutes=1)
        with anyio.fail_after(10):
            while (await _recall_one(client, "bees garden", kept["id"]))["tier"] != "long_term":
                await anyio.sleep(0.02)  # the background task runs every 30 ms; tool calls go on meanwhile
