"""Corroboration and contradiction on real sentences with the real model, and how remember links them."""

from __future__ import annotations

import numpy as np
import pytest

from bench.contradiction import load, scores
from personal_memory.pms.embedding import OnnxMiniLMEmbedder
from personal_memory.pms.relations import Relation, RelationThresholds, judge, slots
from personal_memory.pms.schema import EventKind, MemoryStatus
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery


def _judge(embedder: OnnxMiniLMEmbedder, old: str, new: str) -> Relation:
    vectors = embedder.embed([old, new])
    return judge(new, old, float(np.dot(vectors[0], vectors[1])))


@pytest.mark.parametrize(
    ("old", "new", "relation"),
    [
        ("I prefer tabs", "I prefer spaces", Relation.CONTRADICTS),
        ("I live in Lyon", "I moved to Berlin", Relation.CONTRADICTS),
        ("I like olives", "I don't like olives", Relation.CONTRADICTS),
        ("I have two cats", "I have three cats", Relation.CONTRADICTS),
        ("I am allergic to peanuts", "I have a peanut allergy", Relation.CORROBORATES),
        ("I live in Lyon", "I love the food in Lyon", Relation.NONE),
        ("I prefer tabs over spaces", "I write most of my code in Python", Relation.NONE),
    ],
)
def test_real_sentence_pairs_are_judged_right(
    real_embedder: OnnxMiniLMEmbedder, old: str, new: str, relation: Relation
) -> None:
    assert _judge(real_embedder, old, new) is relation


def test_slots_name_the_single_valued_thing_a_statement_sets() -> None:
    assert slots("I moved to New York last year") == {"residence": {"new", "york"}}
    assert slots("Radiohead is my favourite band") == {"favourite:band": {"radiohead"}}


def test_detector_keeps_its_precision_and_recall_on_the_held_out_pairs(real_embedder: OnnxMiniLMEmbedder) -> None:
    test_half = [p for p in load(real_embedder) if not p.dev]
    contra_precision, contra_recall, _ = scores(test_half, RelationThresholds(), Relation.CONTRADICTS)
    same_precision, same_recall, _ = scores(test_half, RelationThresholds(), Relation.CORROBORATES)
    assert contra_precision >= 0.9 and contra_recall >= 0.7
    assert same_precision >= 0.85 and same_recall >= 0.5


def test_a_paraphrase_corroborates_and_links_the_memory_it_confirms(real_service: MemoryService) -> None:
    first = real_service.remember(NewMemory(content="I am allergic to peanuts")).entry
    second = real_service.remember(NewMemory(content="I have a peanut allergy"))
    old = real_service.find(first.id)
    assert second.corroborates == [first.id] and second.entry.supports == [first.id]
    assert old.confidence.corroboration_count == 1 and second.entry.id in old.related_memories
    assert old.history[-1].kind is EventKind.CORROBORATED and old.history[-1].other == second.entry.id


def test_a_contradiction_links_both_and_lowers_their_confidence(real_service: MemoryService) -> None:
    first = real_service.remember(NewMemory(content="I prefer tabs")).entry
    second = real_service.remember(NewMemory(content="I prefer spaces"))
    old = real_service.find(first.id)
    assert second.contradicts == [first.id] and old.contradicts == [second.entry.id]
    assert old.confidence.contradiction_count == 1 == second.entry.confidence.contradiction_count
    assert old.confidence.overall < first.confidence.overall


def test_correct_wins_and_recall_never_returns_what_it_superseded(real_service: MemoryService) -> None:
    old = real_service.remember(NewMemory(content="I live in Lyon")).entry
    new = real_service.correct(old.id, "I live in Berlin", reason="moved in 2026").new
    assert real_service.find(old.id).status is MemoryStatus.SUPERSEDED and new.supersedes == old.id
    for query in ("where do I live", "Lyon", "I live in Lyon"):
        assert old.id not in [h.entry.id for h in real_service.recall(RecallQuery(query))]
