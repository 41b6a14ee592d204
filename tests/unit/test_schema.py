from __future__ import annotations

import pytest

from personal_memory.pms.errors import InvalidMemoryError
from personal_memory.pms.schema import (
    MAX_CONTENT_BYTES,
    MemoryEntry,
    MemoryType,
    Tier,
    TruthCategory,
    content_hash,
    parse_memory_id,
    validate_content,
)


def test_entry_carries_the_full_seed_schema() -> None:
    entry = MemoryEntry(content="I prefer tabs")
    fields = set(MemoryEntry.model_fields)
    expected = {
        "id", "content", "summary", "content_hash", "tier", "truth_category", "memory_type", "confidence",
        "embedding", "tags", "domains", "entities", "related_memories", "contradicts", "supports", "supersedes",
        "sources", "created_at", "updated_at", "last_accessed", "access_count",
    }  # fmt: skip
    assert expected <= fields
    assert set(type(entry.confidence).model_fields) == {
        "overall", "source_reliability", "recency", "corroboration_count", "contradiction_count"
    }  # fmt: skip
    assert entry.tier is Tier.SHORT_TERM
    assert entry.content_hash == content_hash("I prefer tabs")


def test_enums_name_seed_categories() -> None:
    assert {t.name for t in TruthCategory} == {"ABSOLUTE", "CONTEXTUAL", "OPINION", "INFERRED"}
    assert {t.name for t in MemoryType} == {"FACT", "BELIEF", "PREFERENCE", "SKILL", "EVENT", "CONTEXT"}
    assert {t.name for t in Tier} == {"SHORT_TERM", "LONG_TERM", "PERSISTENT"}


def test_hash_ignores_case_width_and_spacing() -> None:
    assert content_hash("I  prefer TABS ") == content_hash("i prefer tabs")
    assert content_hash("ｆｕｌｌ width") == content_hash("full width")
    assert content_hash("I prefer tabs") != content_hash("I prefer spaces")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("bad \ud800 surrogate", "surrogate"),
        ("nul \x00 char", "NUL"),
        ("x" * (MAX_CONTENT_BYTES + 1), "limit"),
    ],
)
def test_unstorable_content_is_rejected_with_a_reason(value: str, message: str) -> None:
    with pytest.raises(InvalidMemoryError, match=message):
        validate_content(value)


def test_content_at_the_limit_and_any_script_is_accepted() -> None:
    assert validate_content("é" * (MAX_CONTENT_BYTES // 2))
    assert validate_content("私はリヨンに住んでいます 🏠")


def test_bad_ids_get_a_clear_error() -> None:
    with pytest.raises(InvalidMemoryError, match="not a memory id"):
        parse_memory_id("42; DROP TABLE memories")
    assert str(parse_memory_id(" 1fa78154-1b3a-4f7b-a139-43d6455808b2 ")) == "1fa78154-1b3a-4f7b-a139-43d6455808b2"
