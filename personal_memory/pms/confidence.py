"""SEED.md's confidence: ``overall`` from source reliability, recency, corroborations and contradictions.

Formula (every part in [0, 1]; documented in the README):

    recency  = 0.5 ** (days since the memory was last confirmed / half_life_days)
    support  = 1 - (1 - source_reliability) * CORROBORATION_GAP ** corroboration_count
    doubt    = CONTRADICTION_FACTOR ** contradiction_count
    overall  = support * doubt * (RECENCY_FLOOR + (1 - RECENCY_FLOOR) * recency)

Each corroboration closes 30 % of the gap between the source's reliability and certainty; each
contradiction costs a quarter of what is left; an unconfirmed memory loses at most half of its
confidence to age. With the default reliability of a statement made to the assistant (0.8), two
corroborations give 0.90 and one contradiction drops a fresh memory from 0.80 to 0.60.
"""

from __future__ import annotations

from datetime import datetime

from personal_memory.pms.schema import Confidence

CORROBORATION_GAP = 0.7
CONTRADICTION_FACTOR = 0.75
RECENCY_FLOOR = 0.5
DEFAULT_HALF_LIFE_DAYS = 180.0


def recency_factor(last_confirmed: datetime, now: datetime, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> float:
    age_days = max((now - last_confirmed).total_seconds() / 86400.0, 0.0)
    return 0.5 ** (age_days / half_life_days)


def overall_confidence(
    source_reliability: float, recency: float, corroboration_count: int, contradiction_count: int
) -> float:
    support = 1.0 - (1.0 - source_reliability) * CORROBORATION_GAP**corroboration_count
    doubt = CONTRADICTION_FACTOR**contradiction_count
    value = support * doubt * (RECENCY_FLOOR + (1.0 - RECENCY_FLOOR) * recency)
    return round(min(max(value, 0.0), 1.0), 6)


def recompute(
    confidence: Confidence, last_confirmed: datetime, now: datetime, half_life_days: float = DEFAULT_HALF_LIFE_DAYS
) -> Confidence:
    """A new Confidence with recency and overall brought up to date."""
    recency = recency_factor(last_confirmed, now, half_life_days)
    overall = overall_confidence(
        confidence.source_reliability, recency, confidence.corroboration_count, confidence.contradiction_count
    )
    return confidence.model_copy(update={"recency": round(recency, 6), "overall": overall})
