"""Choose the memories worth putting in front of an LLM: for a query, or for the whole profile.

For a query: hybrid recall (dense + full text over every tier, already scored by relevance, confidence
and recency), then a boost for memories in the query's domains and for the memory types its intent
needs, then a relative floor that keeps loosely related memories out, then the top N.
Without a query: every active memory ordered by SEED.md's PLM type weights times confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from personal_memory.context.models import Intent, QueryInsight
from personal_memory.pms.schema import MemoryEntry, MemoryStatus, MemoryType
from personal_memory.pms.service import MemoryService, RecallHit, RecallQuery

DEFAULT_QUERY_LIMIT = 10
DEFAULT_PROFILE_LIMIT = 40
# Domain filter as a boost: a memory labelled with one of the query's domains gains this much, so
# memories with missing or different labels still come in when they are relevant enough.
DOMAIN_BONUS = 0.2
# How much the intent's preferred memory types weigh, scaled by the analyzer's confidence.
TYPE_FIT_WEIGHT = 0.4
# A memory scoring under this fraction of the best one is left out: it would be noise in the prompt.
# The three weights were chosen on bench/context_quality.py (precision and recall both about 0.6 there;
# a floor of 0.7 trades recall 0.55 for precision 0.75, and a missing allergy costs more than a stray line).
RELATIVE_FLOOR = 0.6
INTENT_TYPE_FIT: dict[Intent, dict[MemoryType, float]] = {
    Intent.TECHNICAL_GUIDANCE: {MemoryType.PREFERENCE: 1.0, MemoryType.SKILL: 1.0, MemoryType.BELIEF: 0.8,
                                MemoryType.CONTEXT: 0.8, MemoryType.FACT: 0.5, MemoryType.EVENT: 0.3},
    Intent.RECOMMENDATION: {MemoryType.PREFERENCE: 1.0, MemoryType.FACT: 0.7, MemoryType.BELIEF: 0.6,
                            MemoryType.EVENT: 0.6, MemoryType.CONTEXT: 0.5, MemoryType.SKILL: 0.3},
    Intent.PERSONAL_FACT: {MemoryType.FACT: 1.0, MemoryType.EVENT: 0.8, MemoryType.CONTEXT: 0.7,
                           MemoryType.PREFERENCE: 0.6, MemoryType.SKILL: 0.6, MemoryType.BELIEF: 0.6},
    Intent.PLANNING: {MemoryType.CONTEXT: 1.0, MemoryType.EVENT: 0.9, MemoryType.PREFERENCE: 0.9,
                      MemoryType.FACT: 0.8, MemoryType.SKILL: 0.4, MemoryType.BELIEF: 0.4},
    Intent.CASUAL: dict.fromkeys(MemoryType, 0.5),
}
# Without a query, SEED.md's PLM type weights order what matters most about a person.
TYPE_WEIGHT: dict[MemoryType, float] = {
    MemoryType.FACT: 1.0,
    MemoryType.PREFERENCE: 1.0,
    MemoryType.BELIEF: 0.85,
    MemoryType.SKILL: 0.7,
    MemoryType.CONTEXT: 0.7,
    MemoryType.EVENT: 0.4,
}


@dataclass(frozen=True, slots=True)
class Ranked:
    entry: MemoryEntry
    score: float


def is_live(entry: MemoryEntry, now: datetime) -> bool:
    """Active and not past its short-term expiry (a sweep may not have marked it yet)."""
    return entry.status is MemoryStatus.ACTIVE and (entry.expires_at is None or entry.expires_at > now)


def context_score(hit: RecallHit, insight: QueryInsight) -> float:
    """Recall's score (relevance, confidence, recency), nudged by domain match and intent type fit."""
    fit = INTENT_TYPE_FIT[insight.intent][hit.entry.memory_type]
    in_domain = bool(insight.domains) and not set(insight.domains).isdisjoint(hit.entry.domains)
    return hit.score * (1.0 + TYPE_FIT_WEIGHT * insight.confidence * (fit - 0.5)) + DOMAIN_BONUS * in_domain


def for_query(service: MemoryService, query: str, insight: QueryInsight, limit: int) -> list[Ranked]:
    """The top ``limit`` memories for ``query``, best first; none under the relative floor."""
    # Access counts stay untouched here: ``personal_context`` counts only the memories that are used.
    hits = service.recall(RecallQuery(text=query, limit=max(limit * 3, 30)), touch=False)
    now = service.clock()
    ranked = sorted(
        (Ranked(h.entry, context_score(h, insight)) for h in hits if is_live(h.entry, now)),
        key=lambda r: r.score,
        reverse=True,
    )
    if not ranked:
        return []
    floor = ranked[0].score * RELATIVE_FLOOR
    return [r for r in ranked if r.score >= floor][:limit]


def whole_profile(service: MemoryService, limit: int) -> list[Ranked]:
    """The ``limit`` memories that matter most about the user, by type weight and confidence."""
    now = service.clock()
    live = (e for e in service.iter_active() if is_live(e, now))
    ranked = [Ranked(e, TYPE_WEIGHT[e.memory_type] * e.confidence.overall) for e in live]
    ranked.sort(key=lambda r: (r.score, r.entry.access_count, r.entry.updated_at), reverse=True)
    return ranked[:limit]
