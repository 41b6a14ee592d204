"""The promotion engine: SEED.md's six tier rules, TTL expiry, each move recorded on the memory.

Short-term -> long-term when any holds: confidence >= 0.6 and corroborated >= 2 times; persisted
3+ days with no contradictions; validated by the user. Long-term -> persistent when any holds:
truth category ABSOLUTE and confidence >= 0.9; tagged "identity" for 30+ days; a consistent (never
contradicted) preference accessed 10+ times over 60+ days. A short-term memory past its TTL that
met no rule expires, with the reason recorded. Only active memories move, so a superseded one never
promotes. Every move appends a ``promoted``/``expired`` event (from, to, rule, time) to the memory.

Safe with several server processes on one data dir: each move re-reads the memory and re-decides
under the cross-process write lock, so a memory is never moved twice; an interrupted move leaves a
higher-tier copy that ``repair`` keeps and whose lower-tier leftover it drops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import anyio
import anyio.to_thread

from personal_memory.pms import confidence as conf
from personal_memory.pms.schema import (
    EventKind,
    MemoryEntry,
    MemoryEvent,
    MemoryStatus,
    MemoryType,
    Tier,
    TruthCategory,
)
from personal_memory.pms.service import TIER_ORDER, MemoryService

logger = logging.getLogger(__name__)


class Rule(StrEnum):
    CORROBORATED = "corroborated"  # short -> long
    UNCONTRADICTED = "unchallenged"  # short -> long
    VALIDATED = "validated"  # short -> long
    ABSOLUTE = "absolute"  # long -> persistent
    IDENTITY = "identity"  # long -> persistent
    PREFERENCE = "consistent_preference"  # long -> persistent
    TTL = "ttl_expired"  # short-term memory leaves


@dataclass(frozen=True, slots=True)
class PromotionPolicy:
    """SEED.md's thresholds; the composition root fills them from ``PMEM_PROMOTE_*`` settings."""

    min_confidence: float = 0.6
    min_corroborations: int = 2
    unchallenged_days: float = 3.0
    absolute_confidence: float = 0.9
    identity_tag: str = "identity"
    identity_days: float = 30.0
    preference_accesses: int = 10
    preference_days: float = 60.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What should happen to one memory, and why."""

    memory_id: UUID
    content: str
    from_tier: Tier
    to_tier: Tier | None  # None: the memory expires
    rule: Rule
    reason: str


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400.0


def decide(entry: MemoryEntry, now: datetime, policy: PromotionPolicy, half_life_days: float) -> Decision | None:
    """The move ``entry`` has earned at ``now``, if any (rules in SEED.md's order)."""
    if entry.status is not MemoryStatus.ACTIVE or entry.superseded_by is not None:
        return None
    c = conf.recompute(entry.confidence, entry.updated_at, now, half_life_days)

    def to(tier: Tier, rule: Rule, reason: str) -> Decision:
        return Decision(entry.id, entry.content, entry.tier, tier, rule, reason)

    if entry.tier is Tier.SHORT_TERM:
        age = _days(now - entry.created_at)
        if c.overall >= policy.min_confidence and c.corroboration_count >= policy.min_corroborations:
            return to(Tier.LONG_TERM, Rule.CORROBORATED,
                      f"confidence {c.overall:.2f} >= {policy.min_confidence} and corroborated "
                      f"{c.corroboration_count} times (>= {policy.min_corroborations})")
        if age >= policy.unchallenged_days and c.contradiction_count == 0:
            return to(Tier.LONG_TERM, Rule.UNCONTRADICTED,
                      f"persisted {age:.1f} days (>= {policy.unchallenged_days:g}) with no contradictions")
        if entry.validated:
            return to(Tier.LONG_TERM, Rule.VALIDATED, "explicitly validated by the user")
        if entry.expires_at is not None and entry.expires_at <= now:
            return Decision(entry.id, entry.content, entry.tier, None, Rule.TTL,
                            f"TTL ended {entry.expires_at:%Y-%m-%d %H:%M} with no rule met: corroborated "
                            f"{c.corroboration_count}/{policy.min_corroborations}, confidence {c.overall:.2f}, "
                            f"{c.contradiction_count} contradictions, age {age:.1f} days, not validated")
        return None
    if entry.tier is Tier.LONG_TERM:
        if entry.truth_category is TruthCategory.ABSOLUTE and c.overall >= policy.absolute_confidence:
            return to(Tier.PERSISTENT, Rule.ABSOLUTE,
                      f"absolute truth with confidence {c.overall:.2f} >= {policy.absolute_confidence}")
        if policy.identity_tag in entry.tags:
            tagged = entry.tag_added_at.get(policy.identity_tag, entry.created_at)
            if _days(now - tagged) >= policy.identity_days:
                return to(Tier.PERSISTENT, Rule.IDENTITY,
                          f"tagged {policy.identity_tag!r} for {_days(now - tagged):.0f} days "
                          f"(>= {policy.identity_days:g})")
        span = _days(entry.last_accessed - entry.created_at)
        if (
            entry.memory_type is MemoryType.PREFERENCE
            and c.contradiction_count == 0
            and entry.access_count >= policy.preference_accesses
            and span >= policy.preference_days
        ):
            return to(Tier.PERSISTENT, Rule.PREFERENCE,
                      f"consistent preference accessed {entry.access_count} times over {span:.0f} days")
    return None


class PromotionEngine:
    """Runs the rules over the store: ``plan`` for a dry run, ``run`` to apply them."""

    def __init__(self, service: MemoryService, policy: PromotionPolicy | None = None) -> None:
        self.service = service
        self.policy = policy or PromotionPolicy()

    def _decide(self, entry: MemoryEntry, now: datetime) -> Decision | None:
        return decide(entry, now, self.policy, self.service.options.half_life_days)

    def plan(self) -> list[Decision]:
        """Every move the rules call for now, without making any (one step per memory)."""
        self.service.flush_accesses()  # the access-count rules see every recall made so far
        now = self.service.clock()
        decisions = (self._decide(e, now) for tier in (Tier.SHORT_TERM, Tier.LONG_TERM)
                     for e in self.service.store(tier).iter_entries())
        return [d for d in decisions if d is not None]

    def run(self, ids: list[UUID] | None = None) -> list[Decision]:
        """Apply the rules (to ``ids`` only when given); a promoted memory may move on again in the same run."""
        self.repair()
        self.service.flush_accesses()  # the access-count rules see every recall made so far
        done: list[Decision] = []
        pending = self.plan() if ids is None else self._plan_for(ids)
        while pending:
            moved = [d for d in pending if self._apply(d)]
            done.extend(moved)
            pending = self._plan_for([d.memory_id for d in moved if d.to_tier is Tier.LONG_TERM])
        return done

    def _plan_for(self, ids: list[UUID]) -> list[Decision]:
        now = self.service.clock()
        found = (self.service.store(t).get_many(ids).values() for t in (Tier.SHORT_TERM, Tier.LONG_TERM))
        decisions = (self._decide(e, now) for entries in found for e in entries)
        return [d for d in decisions if d is not None]

    def _apply(self, decision: Decision) -> bool:
        """Re-read and re-decide under the write lock, so two processes never apply one move twice."""
        now = self.service.clock()
        source = self.service.store(decision.from_tier)
        with self.service.writing():
            current = source.get_many([decision.memory_id], with_embedding=True).get(decision.memory_id)
            fresh = self._decide(current, now) if current is not None else None
            if current is None or fresh is None or fresh.to_tier is not decision.to_tier:
                return False
            kind = EventKind.EXPIRED if fresh.to_tier is None else EventKind.PROMOTED
            current.history.append(MemoryEvent(kind=kind, at=now, from_tier=fresh.from_tier, to_tier=fresh.to_tier,
                                               rule=fresh.rule.value, detail=fresh.reason))
            if fresh.to_tier is None:
                current.status = MemoryStatus.EXPIRED
                return source.update(current)
            current.tier = fresh.to_tier
            current.expires_at = None
            self.service.store(fresh.to_tier).add(current)  # the copy first: a crash here leaves two, never none
            source.remove(current.id)
        return True

    def repair(self) -> int:
        """Drop the lower-tier leftover of any move a crash interrupted; how many were dropped."""
        dropped = 0
        with self.service.writing():
            for position, lower in enumerate(TIER_ORDER[1:], start=1):
                ids = [e.id for e in self.service.store(lower).iter_entries()]
                for higher in TIER_ORDER[:position]:
                    for memory_id in self.service.store(higher).get_many(ids):
                        dropped += self.service.store(lower).remove(memory_id)
        if dropped:
            logger.warning("Dropped %d lower-tier copies left by interrupted promotions", dropped)
        return dropped


async def run_every(engine: PromotionEngine, interval_seconds: float, first_after: float = 60.0) -> None:
    """Run the engine in a worker thread after ``first_after`` seconds (at most the interval), then every
    ``interval_seconds``; never raises, and never blocks the event loop."""
    await anyio.sleep(min(first_after, interval_seconds))
    while True:
        try:
            moved = await anyio.to_thread.run_sync(engine.run)
            if moved:
                logger.info("Promotion: %d memories moved or expired", len(moved))
        except Exception:  # top-level handler of a background task: log, keep the schedule alive
            logger.exception("Scheduled promotion failed; it will run again at the next interval")
        await anyio.sleep(interval_seconds)
