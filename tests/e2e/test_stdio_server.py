"""End to end: the real MCP client spawns the real ``pmem serve`` over stdio, as Claude Desktop does."""

from __future__ import annotations

import pytest
from anyio import fail_after

from tests.e2e.mcp_helpers import call, call_error, stdio_session

pytestmark = pytest.mark.anyio

FACTS = [
    ("I prefer tabs over spaces when writing Python", "preference"),
    ("I live in Lyon, France", "fact"),
    ("My daughter Alice was born in March 2019", "fact"),
    ("I am allergic to peanuts", "fact"),
    ("I have written Drupal modules for ten years", "skill"),
]


async def test_a_whole_memory_life_over_stdio_and_across_a_restart(server_env: dict[str, str]) -> None:
    with fail_after(120):
        async with stdio_session(server_env) as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert {"remember", "recall", "correct", "forget", "profile"} <= set(tools)
            assert tools["recall"].annotations and tools["recall"].annotations.read_only_hint
            assert tools["forget"].annotations and tools["forget"].annotations.destructive_hint
            resources = [str(r.uri) for r in (await session.list_resources()).resources]
            assert "memory://user_profile" in resources

            ids = {}
            for text, kind in FACTS:
                out = await call(session, "remember", content=text, memory_type=kind)
                assert out["status"] == "created" and out["tier"] == "short_term"
                ids[text] = out["id"]

            again = await call(session, "remember", content="i prefer TABS over spaces when writing python")
            assert again["status"] == "corroborated" and again["id"] == ids[FACTS[0][0]]
            assert again["corroboration_count"] == 1

            found = await call(session, "recall", query="what food should I stay away from?")
            assert found["memories"][0]["id"] == ids["I am allergic to peanuts"]
            found = await call(session, "recall", query="which indentation style do I like", limit=3)
            assert found["memories"][0]["id"] == ids[FACTS[0][0]] and found["count"] == 3

            lyon = ids["I live in Lyon, France"]
            fixed = await call(
                session, "correct", memory_id=lyon, correction="I live in Berlin, Germany", reason="moved"
            )
            assert fixed["supersedes"] == lyon
            home = await call(session, "recall", query="which city do I live in?")
            home_ids = [m["id"] for m in home["memories"]]
            assert home_ids[0] == fixed["id"] and lyon not in home_ids

            gone = await call(session, "forget", memory_id=ids["I have written Drupal modules for ten years"])
            assert gone["forgotten"]

            profile = await session.read_resource("memory://user_profile")
            xml = profile.contents[0].text  # type: ignore[union-attr]
            assert xml.startswith("<user_profile>") and "Berlin" in xml and "Lyon" not in xml
            assert "Drupal" not in xml and "<preferences>" in xml
            markdown = await call(session, "profile", query="cooking for my family", format="markdown")
            assert markdown["profile"].startswith("# User profile")

        async with stdio_session(server_env) as session:  # a new launch on the same data dir
            found = await call(session, "recall", query="indentation tabs or spaces")
            assert found["memories"][0]["id"] == ids[FACTS[0][0]]  # short-term survived the restart
            all_ids = {m["id"] for m in (await call(session, "recall", query="me", limit=50))["memories"]}
            assert lyon not in all_ids and ids["I have written Drupal modules for ten years"] not in all_ids
            assert fixed["id"] in all_ids


async def test_bad_input_gets_a_clear_tool_error_and_loses_nothing(server_env: dict[str, str]) -> None:
    with fail_after(120):
        async with stdio_session(server_env) as session:
            kept = await call(session, "remember", content="I am left-handed")
            assert "empty" in await call_error(session, "remember", content="   ")
            assert "limit" in await call_error(session, "remember", content="x" * 40_000)
            assert "not a memory id" in await call_error(session, "correct", memory_id="nope", correction="x")
            unknown = "00000000-0000-4000-8000-000000000000"
            assert "No memory has id" in await call_error(session, "forget", memory_id=unknown)
            assert "memory_type" in await call_error(session, "remember", content="x", memory_type="gossip")
            assert await call_error(session, "recall", query="hand", limit=0)
            found = await call(session, "recall", query="which hand do I write with")
            assert [m["id"] for m in found["memories"]] == [kept["id"]]
