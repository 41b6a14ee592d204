"""Building the context from a real store: selection, grouping, traceability, budget and lifecycle."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from personal_memory.context.generator import MAX_LINE_CHARS
from personal_memory.context.models import Intent
from personal_memory.context.profile import build_profile, personal_context
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryType, TruthCategory
from personal_memory.pms.service import MemoryService, NewMemory

MEMORIES = [
    ("I prefer composition over inheritance in Drupal modules", MemoryType.PREFERENCE, ["drupal", "architecture"]),
    ("I have built more than fifty Drupal modules", MemoryType.SKILL, ["drupal"]),
    ("I work on government websites where security audits are strict", MemoryType.CONTEXT, ["government"]),
    ("I am allergic to peanuts", MemoryType.FACT, ["health"]),
    ("My daughter Alice was born in March 2019", MemoryType.FACT, ["family"]),
    ("I ran the Lyon half marathon", MemoryType.EVENT, ["fitness"]),
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(paths: DataPaths, clock: Clock) -> Iterator[MemoryService]:
    service = MemoryService(paths, HashEmbedder(), clock=clock)
    for content, kind, domains in MEMORIES:
        service.remember(NewMemory(content, memory_type=kind, domains=domains))
    yield service
    service.close()


def ids_of(service: MemoryService, *contents: str) -> set[str]:
    return {str(e.id) for e in service.iter_active() if e.content in contents}


def test_a_query_gets_its_memories_grouped_by_type_with_its_analysis(service: MemoryService) -> None:
    built = build_profile(service, "How should I structure this Drupal module?")
    assert built.analysis is not None and built.analysis.intent is Intent.TECHNICAL_GUIDANCE
    sections = built.sections()
    assert [i.text for i in sections["preferences"]] == [MEMORIES[0][0]]
    assert [i.text for i in sections["skills"]] == [MEMORIES[1][0]]
    assert "facts" not in sections  # the peanut allergy has nothing to do with Drupal


def test_every_line_traces_back_to_the_memory_it_came_from(service: MemoryService) -> None:
    built = build_profile(service, "Drupal modules")
    for item in built.items:
        (memory_id,) = item.memory_ids
        assert ids_of(service, item.text) == {memory_id}
    assert [i.rank for i in built.items] == list(range(1, len(built.items) + 1))


def test_at_most_ten_memories_by_default(service: MemoryService) -> None:
    for n in range(30):
        service.remember(NewMemory(f"I like Drupal theme number {n}", memory_type=MemoryType.PREFERENCE))
    assert len(build_profile(service, "Drupal theme I like").items) == 10
    assert len(build_profile(service, "Drupal theme I like", limit=3).items) == 3


def test_without_a_query_the_whole_profile_puts_facts_and_preferences_before_events(service: MemoryService) -> None:
    built = build_profile(service)
    assert built.query is None and built.analysis is None and len(built.items) == len(MEMORIES)
    assert built.items[-1].section == "recent_events"
    assert built.items[-1].text == "I ran the Lyon half marathon (noted 2026-11-25)"


def test_superseded_and_forgotten_memories_never_come_back(service: MemoryService) -> None:
    (alice,) = [e for e in service.iter_active() if e.content.startswith("My daughter")]
    (peanuts,) = [e for e in service.iter_active() if "peanuts" in e.content]
    service.correct(alice.id, "My daughter Alice was born in April 2019")
    service.forget(peanuts.id)
    for query in ("When was my daughter Alice born?", "peanuts allergy", None):
        texts = [i.text for i in build_profile(service, query).items]
        assert MEMORIES[4][0] not in texts and MEMORIES[3][0] not in texts
    assert "My daughter Alice was born in April 2019" in [i.text for i in build_profile(service, "daughter").items]


def test_short_term_memories_past_their_expiry_are_left_out(service: MemoryService, clock: Clock) -> None:
    clock.now += timedelta(days=3)  # past the 48 h short-term TTL, before any sweep marks them
    assert build_profile(service, "Drupal modules").is_empty
    assert build_profile(service).is_empty


def test_inferred_and_uncertain_memories_say_so(service: MemoryService) -> None:
    service.remember(
        NewMemory("I am a morning person", truth_category=TruthCategory.INFERRED, source_reliability=0.3)
    )
    (item,) = [i for i in build_profile(service, "morning person").items if "morning" in i.text]
    assert item.text == "I am a morning person (inferred, unsure)"


def test_an_overlong_memory_is_cut_at_a_word_boundary(service: MemoryService) -> None:
    content = "Kubernetes " + "cluster notes " * 100
    service.remember(NewMemory(content, memory_type=MemoryType.CONTEXT))
    (item,) = [i for i in build_profile(service, "Kubernetes cluster notes").items if "Kubernetes" in i.text]
    assert len(item.text) <= MAX_LINE_CHARS and item.text.endswith("…")
    kept = item.text.removesuffix("…")
    assert content.startswith(kept + " ")


def test_the_rendered_context_never_exceeds_the_token_budget(service: MemoryService) -> None:
    for n in range(40):
        service.remember(NewMemory(f"I keep Drupal module {n} documented in a long and detailed changelog file"))
    out = personal_context(service, "Drupal module changelog", "claude", max_tokens=300, limit=40)
    assert out.tokens <= 300 and 0 < len(out.context.items) < 40
    assert set(out.context.memory_ids()) <= {i for item in out.context.items for i in item.memory_ids}


def test_a_memory_in_the_query_domain_outranks_an_equally_similar_one_outside_it(
    paths: DataPaths, clock: Clock
) -> None:
    service = MemoryService(paths, HashEmbedder(), clock=clock)
    service.remember(NewMemory("Sunday plans with colleagues", domains=["work"]))
    service.remember(NewMemory("Sunday plans with my kids", domains=["family"]))
    try:
        built = build_profile(service, "What are my Sunday plans with the kids and family?")
        assert built.items[0].text == "Sunday plans with my kids"
    finally:
        service.close()


def test_only_the_memories_a_query_context_uses_count_as_accessed(service: MemoryService) -> None:
    rendered = personal_context(service, "what coffee do I like?", "markdown", limit=1)
    used = {i for item in rendered.context.items for i in item.memory_ids}
    service.flush_accesses()
    counts = {str(e.id): e.access_count for e in service.iter_active()}
    assert used and all(counts[i] == 1 for i in used)
    assert all(n == 0 for i, n in counts.items() if i not in used)
    personal_context(service, None, "markdown")  # the whole profile is not an access
    service.flush_accesses()
    assert {str(e.id): e.access_count for e in service.iter_active()} == counts
