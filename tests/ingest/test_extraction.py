"""From free text to atomic first-person statements, with provenance."""

from __future__ import annotations

from datetime import UTC, datetime

from personal_memory.ingest.datapoint import DataPoint, Statement, reliability_for
from personal_memory.ingest.extraction import RuleExtractor, candidates, split_statements
from personal_memory.pms.schema import MemoryType


def _kept(text: str) -> list[str]:
    return [s.text for s in RuleExtractor().statements(text)]


def test_compound_sentences_split_into_atomic_statements() -> None:
    assert _kept("I live in Lyon and I work at Acme as a nurse; my editor is vim") == [
        "I live in Lyon.",
        "I work at Acme as a nurse.",
        "My editor is vim.",
    ]


def test_only_first_person_statements_about_the_user_are_kept() -> None:
    text = (
        "Hi! Can you help me write a poem? Python is a great language. I want you to be brief. "
        "I'm getting this error: KeyError. I'd like a summary of the following text. I love it. "
        "As a vegetarian, I never eat meat! I think remote work beats the office. i love hiking in the #alps"
    )
    assert _kept(text) == [
        "As a vegetarian, I never eat meat!",
        "I think remote work beats the office.",
        "I love hiking in the alps.",
    ]


def test_code_links_and_markup_are_not_statements() -> None:
    text = "```python\nI = 1  # I am code\n```\n- **I prefer** [tabs](https://x.org) over `spaces`\n> I quote.."
    assert split_statements(text) == ["I prefer tabs over", "I quote.."]


def test_goals_survive_but_requests_do_not() -> None:
    assert _kept("I want to learn Spanish next year. I need a function that sorts a list.") == [
        "I want to learn Spanish next year.",
    ]


def test_candidates_carry_provenance_and_the_adapters_own_statements_once() -> None:
    when = datetime(2024, 1, 2, tzinfo=UTC)
    point = DataPoint(
        source_kind="git",
        reference="git:repo@abc",
        timestamp=when,
        text="I prefer small commits.",
        statements=[
            Statement(text="I write Python code.", memory_type=MemoryType.SKILL),
            Statement(text="I prefer small commits."),
        ],
        tags=["work"],
        entities=["repo"],
    )
    found = candidates(point, RuleExtractor(), reliability_for("git"))
    assert [(c.content, c.memory_type) for c in found] == [
        ("I write Python code.", MemoryType.SKILL),
        ("I prefer small commits.", None),
    ]
    source = found[0].source
    assert (source.kind, source.reference, source.timestamp, source.reliability) == ("git", "git:repo@abc", when, 0.9)
    request = found[0].to_new_memory()
    assert request.source == source and request.source_reliability == 0.9 and request.tags == ["work"]


def test_reliability_is_per_source_kind_and_overridable() -> None:
    assert reliability_for("notes") > reliability_for("twitter")
    assert reliability_for("twitter", {"twitter": 0.3}) == 0.3
    assert reliability_for("some-plugin") == 0.6


def test_a_datapoints_hash_changes_with_what_it_says() -> None:
    base = DataPoint(source_kind="notes", reference="a.md:1", text="I run.")
    assert base.content_hash == DataPoint(source_kind="notes", reference="b.md:9", text="I run.").content_hash
    assert base.content_hash != base.model_copy(update={"text": "I swim."}).content_hash
    assert base.content_hash != base.model_copy(update={"statements": [Statement(text="I run daily.")]}).content_hash
