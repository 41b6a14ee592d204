"""Every context format against its golden file (set UPDATE_GOLDEN=1 to rewrite them after a deliberate change)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from personal_memory.context import FORMATS, MIN_MAX_TOKENS
from personal_memory.context.exporters.ollama import modelfile
from personal_memory.context.exporters.plain import Target
from personal_memory.context.formats import render, render_within
from personal_memory.context.models import ContextItem, Intent, PersonalContext, QueryInsight

GOLDEN = Path(__file__).parents[1] / "golden"
QUERY = "How should I structure this Drupal module?"
LINES = [
    ("I prefer composition over inheritance", "preferences"),
    ("I have built 50+ Drupal modules", "skills"),
    ('I work on government websites where "security" is <high> priority & audits happen', "context"),
    ("I use dependency injection everywhere", "preferences"),
    ("I believe tests come first", "beliefs"),
    ("My team ships on Thursdays", "facts"),
    ('I wrote """docstrings""" for the sprint review (noted 2026-11-20)', "recent_events"),
]


def sample(query: str | None = QUERY) -> PersonalContext:
    items = [
        ContextItem(
            text=text, memory_ids=[f"00000000-0000-4000-8000-00000000000{rank}"], section=section,
            confidence=0.9 - rank / 100, rank=rank,
        )
        for rank, (text, section) in enumerate(LINES, start=1)
    ]
    analysis = QueryInsight(domains=["drupal", "architecture"], intent=Intent.TECHNICAL_GUIDANCE, confidence=0.91)
    return PersonalContext(
        query=query, analysis=analysis if query else None, generated_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        items=items,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_matches_its_golden_file(fmt: str) -> None:
    text = render(sample(), fmt, Target(model="llama3.2:3b", personal_model="pmem-plm:latest"))
    golden = GOLDEN / f"context.{fmt}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text + "\n")
    assert text + "\n" == golden.read_text()


def test_claude_xml_is_well_formed_and_keeps_special_characters() -> None:
    root = ElementTree.fromstring(render(sample(), "claude"))
    assert root.tag == "user_profile"
    assert [child.tag for child in root] == ["preferences", "facts", "skills", "beliefs", "context", "recent_events"]
    assert '"security" is <high> priority & audits' in (root.find("context").text or "")  # type: ignore[union-attr]


def test_openai_and_ollama_carry_the_query_after_the_system_message() -> None:
    openai = json.loads(render(sample(), "openai"))
    assert [m["role"] for m in openai["messages"]] == ["system", "user"]
    assert openai["messages"][1]["content"] == QUERY
    assert openai["user_profile"]["preferences"][1] == "I use dependency injection everywhere"
    chat = json.loads(render(sample(None), "ollama"))["chat"]
    assert [m["role"] for m in chat["messages"]] == ["system"] and chat["model"] == "llama3.2:3b"


def test_ollama_names_the_personal_model_when_registered_but_builds_on_the_base_one() -> None:
    out = json.loads(render(sample(), "ollama", Target(model="llama3.2:3b", personal_model="pmem-plm:latest")))
    assert out["chat"]["model"] == "pmem-plm:latest"
    assert out["modelfile"].startswith("FROM llama3.2:3b\nSYSTEM \"\"\"\n")


def test_a_triple_quote_in_a_memory_cannot_end_the_modelfile_system_block() -> None:
    text = modelfile(sample(), "llama3.2:3b")
    assert text.count('"""') == 2 and "'''docstrings'''" in text


def test_json_traces_every_line_to_its_memory_ids() -> None:
    out = json.loads(render(sample(), "json"))
    assert [item["memory_ids"] for item in out["items"]][0] == ["00000000-0000-4000-8000-000000000001"]
    assert out["analysis"]["intent"] == "technical_guidance"


def test_unknown_format_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValueError, match="choose one of claude, openai"):
        render(sample(), "yaml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_budget_drops_the_lowest_ranked_lines_until_the_text_fits(fmt: str) -> None:
    full = render_within(sample(), fmt, max_tokens=10_000)
    assert len(full.context.items) == len(LINES)
    tight = render_within(sample(), fmt, max_tokens=full.tokens - 1)
    assert tight.tokens <= full.tokens - 1
    kept = [item.rank for item in tight.context.items]
    assert kept == list(range(1, len(kept) + 1)) and len(kept) < len(LINES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_empty_format_fits_the_smallest_budget(fmt: str) -> None:
    out = render_within(sample().model_copy(update={"items": []}), fmt, max_tokens=MIN_MAX_TOKENS)
    assert out.tokens <= MIN_MAX_TOKENS
