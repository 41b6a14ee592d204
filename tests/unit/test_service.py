"""The memory service over real stores: remember, corroborate, recall, correct, forget, bad input."""

from __future__ import annotations

import uuid

import pytest

from personal_memory.pms.errors import InvalidMemoryError, MemoryNotFoundError
from personal_memory.pms.schema import MemoryStatus, MemoryType, Tier
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery


def _remember(service: MemoryService, text: str, **kwargs: object) -> uuid.UUID:
    return service.remember(NewMemory(content=text, **kwargs)).entry.id  # type: ignore[arg-type]


def test_new_memories_start_short_term_with_full_provenance(fake_service: MemoryService) -> None:
    outcome = fake_service.remember(NewMemory(content="I live in Lyon", domains=["Travel", "travel "]))
    entry = fake_service.find(outcome.entry.id, with_embedding=True)
    assert outcome.created and entry.tier is Tier.SHORT_TERM
    assert entry.domains == ["travel"]
    assert entry.sources and entry.sources[0].kind == "conversation"
    assert len(entry.embedding) == 384
    assert entry.expires_at is not None and entry.expires_at > entry.created_at
    assert entry.confidence.overall == pytest.approx(0.8)


def test_remembering_the_same_content_corroborates_instead_of_copying(fake_service: MemoryService) -> None:
    first = fake_service.remember(NewMemory(content="I prefer tabs over spaces"))
    second = fake_service.remember(NewMemory(content="  i PREFER tabs over   spaces", tags=["style"]))
    assert not second.created and second.entry.id == first.entry.id
    assert second.entry.confidence.corroboration_count == 1
    assert second.entry.confidence.overall > first.entry.confidence.overall
    assert second.entry.tags == ["style"] and len(second.entry.sources) == 2
    assert fake_service.stats()["short_term"]["active"] == 1


def test_recall_filters_by_type_domain_tier_and_confidence(fake_service: MemoryService) -> None:
    _remember(fake_service, "I prefer dark roast coffee", memory_type=MemoryType.PREFERENCE, domains=["food"])
    _remember(fake_service, "I drank coffee in Rome last week", memory_type=MemoryType.EVENT, domains=["travel"])
    assert [
        h.entry.memory_type for h in fake_service.recall(RecallQuery("coffee", memory_types=[MemoryType.EVENT]))
    ] == [MemoryType.EVENT]
    assert len(fake_service.recall(RecallQuery("coffee", domains=["FOOD"]))) == 1
    assert fake_service.recall(RecallQuery("coffee", tiers=[Tier.PERSISTENT])) == []
    assert fake_service.recall(RecallQuery("coffee", min_confidence=0.99)) == []


def test_recall_counts_accesses(fake_service: MemoryService) -> None:
    memory_id = _remember(fake_service, "My cat is called Miso")
    fake_service.recall(RecallQuery("cat Miso"))
    fake_service.recall(RecallQuery("cat Miso"))
    fake_service.flush_accesses()
    assert fake_service.find(memory_id).access_count == 2


def test_correct_supersedes_and_the_old_memory_leaves_recall(fake_service: MemoryService) -> None:
    old_id = _remember(fake_service, "I live in Lyon", memory_type=MemoryType.FACT)
    outcome = fake_service.correct(old_id, "I live in Berlin since 2026", reason="moved")
    old = fake_service.find(old_id)
    assert outcome.new.supersedes == old_id and old.superseded_by == outcome.new.id
    assert old.status is MemoryStatus.SUPERSEDED and old.confidence.contradiction_count == 1
    assert outcome.new.memory_type is MemoryType.FACT and outcome.new.validated
    assert "Berlin" in outcome.new.entities and "Lyon" not in outcome.new.entities
    recalled = [h.entry.id for h in fake_service.recall(RecallQuery("where do I live Lyon Berlin"))]
    assert outcome.new.id in recalled and old_id not in recalled
    with pytest.raises(InvalidMemoryError, match="superseded"):
        fake_service.correct(old_id, "again")


def test_forget_removes_a_memory_everywhere(fake_service: MemoryService) -> None:
    memory_id = _remember(fake_service, "My bank PIN hint is blue")
    fake_service.forget(memory_id)
    with pytest.raises(MemoryNotFoundError):
        fake_service.find(memory_id)
    assert fake_service.recall(RecallQuery("bank PIN")) == []
    with pytest.raises(MemoryNotFoundError, match="recall"):
        fake_service.forget(memory_id)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 40_000, "broken \udc80 text", "nul\x00"])
def test_bad_input_is_rejected_and_changes_nothing(fake_service: MemoryService, bad: str) -> None:
    keep = _remember(fake_service, "I live in Lyon")
    before = fake_service.find(keep)
    with pytest.raises(InvalidMemoryError):
        fake_service.remember(NewMemory(content=bad))
    with pytest.raises(InvalidMemoryError):
        fake_service.correct(keep, bad)
    assert fake_service.find(keep) == before
    assert fake_service.stats()["short_term"]["active"] == 1


def test_unknown_ids_are_reported_not_invented(fake_service: MemoryService) -> None:
    with pytest.raises(MemoryNotFoundError):
        fake_service.correct(uuid.uuid4(), "something")


def test_every_tier_survives_a_restart(fake_service: MemoryService, paths) -> None:  # type: ignore[no-untyped-def]
    memory_id = _remember(fake_service, "I am allergic to peanuts")
    fake_service.close()
    again = MemoryService(paths, fake_service.embedder)
    assert again.find(memory_id).content == "I am allergic to peanuts"
    assert again.recall(RecallQuery("peanut allergy peanuts"))[0].entry.id == memory_id
    again.close()


def test_real_model_finds_a_paraphrase_first(real_service: MemoryService) -> None:
    facts = [
        "I prefer tabs over spaces when writing Python",
        "I live in Lyon with my partner Sam",
        "My daughter Alice was born in March 2019",
        "I am allergic to peanuts",
        "I work as a backend engineer on government websites",
    ]
    ids = [_remember(real_service, fact) for fact in facts]
    assert real_service.recall(RecallQuery("which indentation style do I like?"))[0].entry.id == ids[0]
    assert real_service.recall(RecallQuery("what food must I avoid?"))[0].entry.id == ids[3]
    assert real_service.recall(RecallQuery("how old is my kid"))[0].entry.id == ids[2]
    assert real_service.recall(RecallQuery("what is my job"))[0].entry.id == ids[4]
