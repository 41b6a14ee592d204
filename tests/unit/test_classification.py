"""The local classifier: types, truth categories, domains and entities, offline and fast (real MiniLM)."""

from __future__ import annotations

import time

import pytest

from bench.classifier import load
from personal_memory.pms.classification import LocalClassifier, extract_entities
from personal_memory.pms.classification.prototypes import PROTOTYPES
from personal_memory.pms.classification.rules import truth_cue_counts, type_cue_counts
from personal_memory.pms.embedding import OnnxMiniLMEmbedder
from personal_memory.pms.schema import MemoryType, TruthCategory
from personal_memory.pms.service import MemoryService, NewMemory


@pytest.fixture(scope="module")
def classifier(real_embedder: OnnxMiniLMEmbedder) -> LocalClassifier:
    return LocalClassifier(real_embedder)


@pytest.mark.parametrize(
    ("text", "memory_type", "truth"),
    [
        ("I prefer tabs over spaces", MemoryType.PREFERENCE, TruthCategory.OPINION),
        ("My daughter Alice was born in March 2019", MemoryType.FACT, TruthCategory.ABSOLUTE),
        ("I think static sites are underrated", MemoryType.BELIEF, TruthCategory.OPINION),
        ("I can speak Portuguese fluently", MemoryType.SKILL, TruthCategory.CONTEXTUAL),
        ("Yesterday I went to the dentist", MemoryType.EVENT, TruthCategory.CONTEXTUAL),
        ("I'm currently rewriting our search service", MemoryType.CONTEXT, TruthCategory.CONTEXTUAL),
        ("The user seems to live in Canada", MemoryType.FACT, TruthCategory.INFERRED),
    ],
)
def test_clear_statements_get_the_expected_type_and_truth(
    classifier: LocalClassifier, text: str, memory_type: MemoryType, truth: TruthCategory
) -> None:
    result = classifier.classify(text)
    assert (result.memory_type, result.truth_category) == (memory_type, truth)


def test_labelled_set_accuracy_holds_on_statements_the_classifier_never_saw(classifier: LocalClassifier) -> None:
    rows = load()
    prototypes = {text for texts in PROTOTYPES.values() for text in texts}
    assert len(rows) >= 200 and not prototypes.intersection(r.text for r in rows)
    results = [classifier.classify(r.text) for r in rows]
    type_accuracy = sum(p.memory_type is r.memory_type for p, r in zip(results, rows, strict=True)) / len(rows)
    truth_accuracy = sum(p.truth_category is r.truth_category for p, r in zip(results, rows, strict=True)) / len(rows)
    assert type_accuracy >= 0.85 and truth_accuracy >= 0.9


def test_classifying_takes_a_few_milliseconds(classifier: LocalClassifier) -> None:
    classifier.classify("warm up")
    start = time.perf_counter()
    for _ in range(20):
        classifier.classify("I prefer composition over inheritance in Drupal modules")
    assert (time.perf_counter() - start) / 20 < 0.02


def test_cue_rules_count_every_cue_that_matches_and_none_where_none_does() -> None:
    types = type_cue_counts("I prefer tea; my favourite is green tea, rather than coffee")
    assert types[MemoryType.PREFERENCE] == 3 and types[MemoryType.SKILL] == 0
    assert truth_cue_counts("The user probably likes tea") == {TruthCategory.INFERRED: 2, TruthCategory.ABSOLUTE: 0}
    assert set(type_cue_counts("")) == set(MemoryType) and not any(type_cue_counts("").values())


def test_domains_and_entities_are_found() -> None:
    assert extract_entities("My daughter Alice was born in March 2019 in New York City") == [
        "Alice",
        "March 2019",
        "New York City",
    ]
    assert extract_entities("I use PostgreSQL and Next.js daily") == ["PostgreSQL", "Next.js"]
    assert extract_entities("i prefer tabs") == []


def test_remember_classifies_unless_the_caller_says(real_service: MemoryService) -> None:
    auto = real_service.remember(NewMemory(content="I prefer composition over inheritance in Drupal modules")).entry
    assert auto.memory_type is MemoryType.PREFERENCE and auto.truth_category is TruthCategory.OPINION
    assert "drupal" in auto.domains and "Drupal" in auto.entities
    given = real_service.remember(
        NewMemory(content="I cook risotto on Sundays", memory_type=MemoryType.SKILL, domains=["Cooking"])
    ).entry
    assert given.memory_type is MemoryType.SKILL and given.domains == ["cooking"]
