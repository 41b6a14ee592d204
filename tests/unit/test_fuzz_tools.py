"""Fuzzing every MCP tool with hostile arguments: a result or a clear error, never a crash, hang or change."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult, Tool

from personal_memory.config import Settings, load_settings
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.service import TIER_ORDER, MemoryService
from personal_memory.server.app import build_server
from tests.reliability.hostile import anything, hostile_text, memory_ids

FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SEED = ["I prefer tabs over spaces", "I live in Lyon", 'My cat is called Miso "NEAR(" OR *']


def snapshot(settings_: Settings) -> set[tuple[str, ...]]:
    """Everything recall could reveal about the stored memories, except access bookkeeping."""
    service = MemoryService(settings_.paths, HashEmbedder())
    try:
        return {
            (str(e.id), e.content, e.status.value, str(e.superseded_by), repr(e.confidence), repr(e.tags))
            for tier in TIER_ORDER
            for e in service.store(tier).iter_entries()
        }
    finally:
        service.close()


def arguments_for(tool: Tool) -> st.SearchStrategy[dict[str, Any]]:
    """Each parameter absent, hostile, or hostile of a plausible shape; sometimes an unknown extra one."""
    names = list(tool.input_schema.get("properties", {}))
    required = set(tool.input_schema.get("required", []))
    plausible = st.one_of(anything, st.lists(hostile_text, max_size=5), memory_ids)
    return st.fixed_dictionaries(
        {n: plausible for n in names if n in required},
        optional={n: plausible for n in names if n not in required} | {"unexpected": anything},
    )


@contextmanager
def connected(settings_: Settings) -> Iterator[tuple[BlockingPortal, Client]]:
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(build_server(settings_, warm_up=False))) as client,
    ):
        yield portal, client


def call(portal: BlockingPortal, client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    async def bounded() -> CallToolResult:
        with anyio.fail_after(30):  # a hang fails the example instead of the whole run
            return await client.call_tool(name, arguments)

    return portal.call(bounded)


def fuzz_tool(
    portal: BlockingPortal, client: Client, tool: Tool, app_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    @FUZZ
    @given(arguments=arguments_for(tool))
    def answers(arguments: dict[str, Any]) -> None:
        before = snapshot(app_settings)
        caplog.clear()
        result = call(portal, client, tool.name, arguments)
        crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not crashes, crashes
        if result.is_error:
            message = " ".join(getattr(c, "text", "") for c in result.content)
            assert message.strip() and "Traceback" not in message
            assert snapshot(app_settings) == before, f"{tool.name} failed but changed the store"
        else:
            assert result.structured_content is not None
            if tool.annotations and tool.annotations.read_only_hint:
                assert snapshot(app_settings) == before, f"read-only {tool.name} changed the store"

    answers()


def test_every_tool_answers_hostile_arguments_with_a_result_or_a_clear_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app_settings = load_settings(embedder="hash")
    with connected(app_settings) as (portal, client):
        for text in SEED:
            assert not call(portal, client, "remember", {"content": text}).is_error
        tools = portal.call(client.list_tools).tools
        assert {"remember", "recall", "correct", "forget", "profile"} <= {t.name for t in tools}
        for tool in tools:
            fuzz_tool(portal, client, tool, app_settings, caplog)


def test_query_syntax_and_filter_injection_in_recall_find_only_real_matches() -> None:
    app_settings = load_settings(embedder="hash")
    with connected(app_settings) as (portal, client):
        for text in SEED:
            call(portal, client, "remember", {"content": text})
        for query in ['"', "*", "NEAR(", "OR", "id = 'x' OR true", "') OR 1=1 --", '" OR "" = "']:
            result = call(portal, client, "recall", {"query": query})
            assert not result.is_error or "empty" in str(result.content)
            if result.structured_content:
                returned = {m["content"] for m in result.structured_content["memories"]}
                assert returned <= set(SEED)
        found = call(portal, client, "recall", {"query": 'cat "NEAR(" OR *'}).structured_content
        assert found is not None and found["memories"][0]["content"] == SEED[2]
        assert len(snapshot(app_settings)) == len(SEED)


KNOWN_HOSTILE = [
    ("remember", {"content": "lone \udc80 surrogate"}),
    ("remember", {"content": "nul \x00 inside"}),
    ("remember", {"content": "fine", "confidence": float("nan")}),
    ("remember", {"content": "fine", "tags": ["\udcff"], "source": "\ud800"}),
    ("recall", {"query": "\ud800\udc00\udfff"}),
    ("recall", {"query": "x", "limit": 10**30}),
    ("correct", {"memory_id": "'; DROP TABLE memories; --", "correction": "x"}),
    ("correct", {"memory_id": "00000000-0000-4000-8000-000000000000", "correction": "\udc80"}),
    ("forget", {"memory_id": "id = 'x' OR true"}),
    ("profile", {"query": "\udc80", "format": "json"}),
]


@pytest.mark.parametrize(("tool", "arguments"), KNOWN_HOSTILE)
def test_known_hostile_calls_get_a_clear_answer_and_log_no_crash(
    tool: str, arguments: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    app_settings = load_settings(embedder="hash")
    with connected(app_settings) as (portal, client):
        result = call(portal, client, tool, arguments)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert result.is_error or result.structured_content is not None
