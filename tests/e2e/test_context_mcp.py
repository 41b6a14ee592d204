"""Context injection through the real MCP client: the profile tool, both resources and the prompt."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from anyio import fail_after
from mcp import Client, MCPError

from personal_memory.config import load_settings
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.server.app import build_server

pytestmark = pytest.mark.anyio

FACTS = [
    ("I prefer composition over inheritance in Drupal modules", "preference"),
    ("I have built fifty Drupal modules for government websites", "skill"),
    ("I am allergic to peanuts & shellfish", "fact"),
]


async def remember_all(client: Client) -> dict[str, str]:
    ids = {}
    for content, kind in FACTS:
        out = await client.call_tool("remember", {"content": content, "memory_type": kind})
        ids[content] = out.structured_content["id"]  # type: ignore[index]
    return ids


async def test_profile_tool_returns_each_format_with_ids_analysis_and_token_count() -> None:
    settings = load_settings(embedder="hash")
    with fail_after(30):
        async with Client(build_server(settings, warm_up=False)) as client:
            ids = await remember_all(client)
            tool = next(t for t in (await client.list_tools()).tools if t.name == "profile")
            assert tool.annotations and tool.annotations.read_only_hint
            assert {"query", "format", "max_tokens"} <= set(tool.input_schema["properties"])
            out = await client.call_tool("profile", {"query": "How do I structure a Drupal module?"})
            result = out.structured_content
            assert result is not None and result["format"] == "claude"
            assert result["profile"].startswith("<user_profile>") and "<preferences>" in result["profile"]
            assert result["memory_ids"][:2] == [ids[FACTS[0][0]], ids[FACTS[1][0]]]
            assert result["analysis"]["intent"] == "technical_guidance" and "drupal" in result["analysis"]["domains"]
            assert 0 < result["tokens"] <= 1200
            for fmt in ("openai", "ollama", "json"):
                out = await client.call_tool("profile", {"query": "Drupal", "format": fmt, "max_tokens": 2000})
                assert json.loads(out.structured_content["profile"])  # type: ignore[index]
            whole = await client.call_tool("profile", {"format": "markdown"})
            assert "peanuts & shellfish" in whole.structured_content["profile"]  # type: ignore[index]
            refused = await client.call_tool("profile", {"query": "x", "max_tokens": 10})
            assert refused.is_error
    logged = [e for e in InteractionLog(settings.paths.interactions).read() if e.tool == "profile"]
    assert logged[0].memory_ids[:2] == [ids[FACTS[0][0]], ids[FACTS[1][0]]]


async def test_user_profile_resource_and_context_template_serve_escaped_xml() -> None:
    with fail_after(30):
        async with Client(build_server(load_settings(embedder="hash"), warm_up=False)) as client:
            await remember_all(client)
            templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
            assert "memory://context/{query}" in templates
            whole = (await client.read_resource("memory://user_profile")).contents[0].text  # type: ignore[union-attr]
            assert "peanuts &amp; shellfish" in whole and whole.count("<user_profile>") == 1
            uri = "memory://context/" + quote("what food should I avoid? peanuts ../..", safe="")
            focused = (await client.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
            assert focused.startswith("<user_profile>") and "peanuts &amp; shellfish" in focused
            assert "Drupal" not in focused


async def test_with_my_context_prompt_prepends_the_context_to_the_question() -> None:
    with fail_after(30):
        async with Client(build_server(load_settings(embedder="hash"), warm_up=False)) as client:
            await remember_all(client)
            prompts = {p.name: p for p in (await client.list_prompts()).prompts}
            assert [a.name for a in prompts["with_my_context"].arguments or []] == ["question", "format"]
            question = "Which Drupal module pattern suits me?"
            got = await client.get_prompt("with_my_context", {"question": question})
            (message,) = got.messages
            text = message.content.text  # type: ignore[union-attr]
            assert message.role == "user" and "<user_profile>" in text and text.endswith(f"Question: {question}")
            assert text.index("composition over inheritance") < text.index(question)
            md = await client.get_prompt("with_my_context", {"question": question, "format": "markdown"})
            assert "# User profile" in md.messages[0].content.text  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="Unknown format 'yaml'"):
                await client.get_prompt("with_my_context", {"question": question, "format": "yaml"})
