"""The promotion engine: every SEED.md rule, its negative case and TTL expiry, with a moved clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from uuid import UUID

import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.promotion import PromotionEngine, PromotionPolicy, Rule
from personal_memory.pms.schema import EventKind, MemoryStatus, MemoryType, Tier, TruthCategory
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery
from tests.clock import MovableClock


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def service(paths: DataPaths, clock: MovableClock) -> Iterator[MemoryService]:
    service = MemoryService(paths, HashEmbedder(), clock=clock)
    yield service
    service.close()


@pytest.fixture
def engine(service: MemoryService) -> PromotionEngine:
    return PromotionEngine(service)


def _remember(service: MemoryService, text: str, **kwargs: object) -> UUID:
    return service.remember(NewMemory(content=text, **kwargs)).entry.id  # type: ignore[arg-type]


def _promote_to_long(service: MemoryService, engine: PromotionEngine, memory_id: UUID) -> None:
    service.validate(memory_id)
    engine.run([memory_id])
    assert service.find(memory_id).tier is Tier.LONG_TERM


def test_twice_corroborated_confident_memory_moves_to_long_term(
    service: MemoryService, engine: PromotionEngine
) -> None:
    memory_id = _remember(service, "I prefer tabs over spaces")
    service.remember(NewMemory(content="i prefer TABS over spaces"))
    assert engine.run() == []
    service.remember(NewMemory(content="I prefer tabs over spaces."))
    [decision] = engine.run()
    entry = service.find(memory_id)
    assert decision.rule is Rule.CORROBORATED and entry.tier is Tier.LONG_TERM
    assert entry.history[-1].kind is EventKind.PROMOTED and entry.history[-1].from_tier is Tier.SHORT_TERM
    assert entry.expires_at is None


def test_low_confidence_blocks_the_corroboration_rule(service: MemoryService, engine: PromotionEngine) -> None:
    memory_id = _remember(service, "The office wifi password rotates monthly", source_reliability=0.1)
    for _ in range(2):
        service.remember(NewMemory(content="The office wifi password rotates monthly", source_reliability=0.1))
    assert service.find(memory_id).confidence.overall < 0.6
    assert engine.run() == []


def test_memory_kept_three_days_without_contradiction_moves_up(
    service: MemoryService, engine: PromotionEngine, clock: MovableClock
) -> None:
    memory_id = _remember(service, "My bike is a green Brompton")
    clock.advance(days=1, hours=12)
    service.remember(NewMemory(content="my bike is a green brompton"))  # renews the 48 h TTL
    clock.advance(days=1)
    assert engine.run() == [] and service.find(memory_id).tier is Tier.SHORT_TERM
    clock.advance(days=0.6)
    [decision] = engine.run()
    assert decision.rule is Rule.UNCONTRADICTED and service.find(memory_id).tier is Tier.LONG_TERM


def test_contradicted_memory_does_not_promote_on_age_and_expires_with_a_reason(
    service: MemoryService, engine: PromotionEngine, clock: MovableClock
) -> None:
    old = _remember(service, "I live in Lyon")
    new = service.remember(NewMemory(content="I live in Berlin"))
    assert new.contradicts == [old]
    clock.advance(days=1)
    service.remember(NewMemory(content="I live in Lyon"))  # corroborated once (TTL renewed), still contradicted
    clock.advance(days=1, hours=1)
    decisions = {d.memory_id: d for d in engine.run()}
    assert decisions[new.entry.id].rule is Rule.TTL and decisions[new.entry.id].to_tier is None
    assert old not in decisions
    expired = service.find(new.entry.id)
    assert expired.status is MemoryStatus.EXPIRED
    assert expired.history[-1].kind is EventKind.EXPIRED and "1 contradictions" in (expired.history[-1].detail or "")
    assert [h.entry.id for h in service.recall(RecallQuery("where do I live Berlin"))] == [old]
    clock.advance(days=1)  # three days old now, but contradicted: it expires instead of moving up
    [decision] = engine.run()
    assert decision.memory_id == old and decision.rule is Rule.TTL


def test_validated_memory_moves_up_and_unvalidated_one_stays(service: MemoryService, engine: PromotionEngine) -> None:
    kept = _remember(service, "I am training for the Lyon half marathon")
    validated = _remember(service, "My sister Ana is a pilot")
    service.validate(validated)
    [decision] = engine.run()
    assert decision.memory_id == validated and decision.rule is Rule.VALIDATED
    assert service.find(kept).tier is Tier.SHORT_TERM


def test_absolute_truth_with_high_confidence_becomes_persistent(
    service: MemoryService, engine: PromotionEngine
) -> None:
    text = "My son Leo was born on 3 February 2020"
    memory_id = _remember(service, text, truth_category=TruthCategory.ABSOLUTE, source_reliability=0.95)
    weak = _remember(service, "My badge number is 4471", truth_category=TruthCategory.ABSOLUTE, source_reliability=0.5)
    service.validate(memory_id)
    service.validate(weak)
    moved = engine.run()  # validated -> long-term, then at once absolute -> persistent
    assert [d.rule for d in moved if d.memory_id == memory_id] == [Rule.VALIDATED, Rule.ABSOLUTE]
    assert service.find(memory_id).tier is Tier.PERSISTENT
    assert service.find(weak).tier is Tier.LONG_TERM


def test_identity_tag_held_thirty_days_becomes_persistent(
    service: MemoryService, engine: PromotionEngine, clock: MovableClock
) -> None:
    memory_id = _remember(service, "I am a Quaker", tags=["identity"])
    _promote_to_long(service, engine, memory_id)
    clock.advance(days=29)
    assert engine.run() == []
    clock.advance(days=1, minutes=1)
    [decision] = engine.run()
    assert decision.rule is Rule.IDENTITY and service.find(memory_id).tier is Tier.PERSISTENT


def test_identity_time_counts_from_when_the_tag_was_given(
    service: MemoryService, engine: PromotionEngine, clock: MovableClock
) -> None:
    memory_id = _remember(service, "I am a Quaker")
    _promote_to_long(service, engine, memory_id)
    clock.advance(days=40)
    service.remember(NewMemory(content="I am a Quaker", tags=["identity"]))
    clock.advance(days=10)
    assert engine.run() == []


def test_preference_accessed_often_over_sixty_days_becomes_persistent(
    service: MemoryService, engine: PromotionEngine, clock: MovableClock
) -> None:
    memory_id = _remember(service, "I like oat milk in coffee", memory_type=MemoryType.PREFERENCE)
    _promote_to_long(service, engine, memory_id)
    for _ in range(9):
        clock.advance(days=7)
        service.recall(RecallQuery("oat milk coffee"))
    assert engine.run() == []  # 9 accesses over 63 days
    service.recall(RecallQuery("oat milk coffee"))
    [decision] = engine.run()
    assert decision.rule is Rule.PREFERENCE and service.find(memory_id).tier is Tier.PERSISTENT


def test_frequent_accesses_in_a_short_span_are_not_enough(
    service: MemoryService, engine: PromotionEngine, clock: MovableClock
) -> None:
    memory_id = _remember(service, "I like oat milk in coffee", memory_type=MemoryType.PREFERENCE)
    _promote_to_long(service, engine, memory_id)
    for _ in range(12):
        clock.advance(days=1)
        service.recall(RecallQuery("oat milk coffee"))
    assert engine.run() == []


def test_superseded_memory_never_promotes_but_its_correction_does(
    service: MemoryService, engine: PromotionEngine
) -> None:
    old = _remember(service, "My dentist is Dr Moreau")
    service.validate(old)
    new = service.correct(old, "My dentist is Dr Lambert", reason="changed practice").new
    moved = engine.run()
    assert [d.memory_id for d in moved] == [new.id]
    assert service.find(old).status is MemoryStatus.SUPERSEDED and service.find(old).tier is Tier.SHORT_TERM
    assert [e.kind for e in service.find(old).history] == [EventKind.CREATED, EventKind.VALIDATED, EventKind.SUPERSEDED]


def test_dry_run_changes_nothing_and_thresholds_are_configurable(
    service: MemoryService, clock: MovableClock
) -> None:
    memory_id = _remember(service, "I keep bees in the garden")
    clock.advance(days=1)
    strict = PromotionEngine(service, PromotionPolicy(unchallenged_days=1.0))
    [planned] = strict.plan()
    assert planned.rule is Rule.UNCONTRADICTED and service.find(memory_id).tier is Tier.SHORT_TERM
    assert PromotionEngine(service).plan() == []


def test_an_interrupted_move_is_repaired_to_exactly_one_copy(service: MemoryService, engine: PromotionEngine) -> None:
    memory_id = _remember(service, "I collect vinyl records")
    entry = service.find(memory_id, with_embedding=True)
    service.store(Tier.LONG_TERM).add(entry.model_copy(update={"tier": Tier.LONG_TERM}))  # crash before the remove
    assert engine.repair() == 1
    assert service.store(Tier.SHORT_TERM).get_many([memory_id]) == {}
    assert service.find(memory_id).tier is Tier.LONG_TERM


def test_pmem_promote_dry_run_lists_moves_and_pmem_why_tells_the_story(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    monkeypatch.setenv("PMEM_PROMOTE_UNCHALLENGED_DAYS", "0")
    runner = CliRunner()
    memory_id = json.loads(runner.invoke(main, ["remember", "I play the cello", "--json"]).output)["id"]
    dry = runner.invoke(main, ["promote", "--dry-run"])
    assert dry.exit_code == 0 and "would move" in dry.output and "short_term -> long_term" in dry.output
    assert "short_term" in runner.invoke(main, ["why", memory_id]).output
    moved = json.loads(runner.invoke(main, ["promote", "--json"]).output)
    assert [(m["id"], m["rule"]) for m in moved] == [(memory_id, "unchallenged")]
    why = runner.invoke(main, ["why", memory_id])
    assert why.exit_code == 0 and "now: long_term, active" in why.output
    assert "promoted  short_term -> long_term  [unchallenged]" in why.output
    assert runner.invoke(main, ["why", "not-an-id"]).exit_code == 1
