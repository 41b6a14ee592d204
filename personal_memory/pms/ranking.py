"""Hybrid ranking: dense and full-text candidates from every tier fused into one ordered list.

Relevance is a linear fusion of min-max normalised scores (0.6 dense cosine + 0.4 full-text), which
beat reciprocal-rank fusion on the LoCoMo dev set in our offline experiments; full-text scores are
normalised within each tier because BM25 figures from different engines are not comparable.
The final score multiplies relevance by a factor from confidence and recency, and adds a small tier
prior (persistent core memories first among equals), as SEED.md orders retrieval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from personal_memory.pms.schema import MemoryEntry, Tier

DENSE_WEIGHT = 0.6
TEXT_WEIGHT = 0.4
TIER_PRIOR = {Tier.SHORT_TERM: 0.0, Tier.LONG_TERM: 0.01, Tier.PERSISTENT: 0.02}


@dataclass(slots=True)
class Candidate:
    memory_id: UUID
    tier: Tier
    dense: float | None = None
    text: float = 0.0
    relevance: float = 0.0
    score: float = 0.0
    entry: MemoryEntry | None = field(default=None, repr=False)


def _minmax(values: dict[UUID, float]) -> dict[UUID, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    span = high - low
    if span <= 1e-12:
        return dict.fromkeys(values, 1.0)
    return {k: (v - low) / span for k, v in values.items()}


def fuse(
    dense: dict[Tier, list[tuple[UUID, float]]], text: dict[Tier, list[tuple[UUID, float]]]
) -> dict[UUID, Candidate]:
    """Merge every tier's dense and full-text hits into candidates carrying a relevance in [0, 1]."""
    candidates: dict[UUID, Candidate] = {}
    all_dense: dict[UUID, float] = {}
    for tier, hits in dense.items():
        for memory_id, score in hits:
            candidates.setdefault(memory_id, Candidate(memory_id, tier)).dense = score
            all_dense[memory_id] = score
    text_norm: dict[UUID, float] = {}
    for tier, hits in text.items():
        top = max((s for _, s in hits), default=0.0)
        for memory_id, score in hits:
            candidates.setdefault(memory_id, Candidate(memory_id, tier))
            text_norm[memory_id] = score / top if top > 0 else 0.0
    dense_norm = _minmax(all_dense)
    for memory_id, cand in candidates.items():
        cand.text = text_norm.get(memory_id, 0.0)
        cand.relevance = DENSE_WEIGHT * dense_norm.get(memory_id, 0.0) + TEXT_WEIGHT * cand.text
    return candidates


def final_score(cand: Candidate, entry: MemoryEntry) -> float:
    """Relevance first; confidence and recency break near-ties; the tier is a small prior."""
    conf = entry.confidence
    return cand.relevance * (0.85 + 0.1 * conf.overall + 0.05 * conf.recency) + TIER_PRIOR[entry.tier]
