from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from personal_memory.pms.confidence import overall_confidence, recency_factor, recompute
from personal_memory.pms.schema import Confidence

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def test_recency_halves_every_half_life() -> None:
    assert recency_factor(NOW, NOW) == 1.0
    assert recency_factor(NOW - timedelta(days=180), NOW) == pytest.approx(0.5)
    assert recency_factor(NOW - timedelta(days=360), NOW, half_life_days=360) == pytest.approx(0.5)


def test_corroboration_raises_and_contradiction_lowers_confidence() -> None:
    fresh = overall_confidence(0.8, 1.0, 0, 0)
    assert fresh == pytest.approx(0.8)
    assert overall_confidence(0.8, 1.0, 2, 0) == pytest.approx(1 - 0.2 * 0.49)
    assert overall_confidence(0.8, 1.0, 0, 1) == pytest.approx(0.6)
    assert overall_confidence(0.8, 0.0, 0, 0) == pytest.approx(0.4)


def test_recompute_updates_recency_and_overall_only() -> None:
    before = Confidence(source_reliability=0.7, corroboration_count=1)
    after = recompute(before, NOW - timedelta(days=180), NOW)
    assert after.recency == pytest.approx(0.5)
    assert after.overall == pytest.approx((1 - 0.3 * 0.7) * 0.75)
    assert after.corroboration_count == 1 and after.source_reliability == 0.7
