"""Query analysis: domains and intent with a confidence, fast enough for every prompt."""

from __future__ import annotations

import time

import pytest

from personal_memory.context.analysis import FALLBACK_CONFIDENCE, RuleQueryAnalyzer
from personal_memory.context.models import Intent
from personal_memory.plm.interfaces import QueryAnalyzer


@pytest.mark.parametrize(
    ("query", "intent"),
    [
        ("How should I structure this Drupal module?", Intent.TECHNICAL_GUIDANCE),
        ("Why does my pytest fixture raise an exception?", Intent.TECHNICAL_GUIDANCE),
        ("Can you recommend a good book for the flight?", Intent.RECOMMENDATION),
        ("What should I cook for my family this weekend?", Intent.RECOMMENDATION),
        ("When is my daughter's birthday?", Intent.PERSONAL_FACT),
        ("Where do I live these days?", Intent.PERSONAL_FACT),
        ("Help me plan a trip to Japan next summer", Intent.PLANNING),
        ("hello, how are you today?", Intent.CASUAL),
    ],
)
def test_the_intent_of_typical_queries_is_recognised(query: str, intent: Intent) -> None:
    assert RuleQueryAnalyzer().analyze(query).intent is intent


def test_seed_example_gets_drupal_and_architecture_with_high_confidence() -> None:
    found = RuleQueryAnalyzer().analyze("How should I structure this Drupal module?")
    assert {"drupal", "architecture"} <= set(found.domains)
    assert found.confidence >= 0.85


def test_a_query_without_cues_is_casual_with_low_confidence() -> None:
    found = RuleQueryAnalyzer().analyze("blue")
    assert found.intent is Intent.CASUAL and found.confidence == FALLBACK_CONFIDENCE and found.domains == []


def test_an_ambiguous_query_is_less_certain_than_a_clear_one() -> None:
    analyzer = RuleQueryAnalyzer()
    clear = analyzer.analyze("Recommend a good restaurant for dinner")
    mixed = analyzer.analyze("Recommend how I should plan next week's schedule")
    assert mixed.confidence < clear.confidence


def test_analysis_takes_well_under_twenty_milliseconds() -> None:
    analyzer: QueryAnalyzer = RuleQueryAnalyzer()
    analyzer.analyze("warm up the compiled patterns")
    started = time.perf_counter()
    for _ in range(100):
        analyzer.analyze("How should I structure this Drupal module for a government website with strict security?")
    assert (time.perf_counter() - started) / 100 < 0.020
