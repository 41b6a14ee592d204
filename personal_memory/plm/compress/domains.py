"""Domain activation tracking (SEED.md phase 3): which knowledge domains this user actually uses.

The trainer sidecar counts the domains every recall / profile / ask / context query activated
(``TrainerStore.domain_counts()``). A domain's share of all activations decides its fate: above
``keep_above`` (5 %) it is kept, below ``prune_below`` (1 %) it is a prune candidate, in between it is
neutral. Domains of the lexicon that were never activated are prune candidates too (0 %). SEED.md's
example lists cooking at 1.3 % under "prune"; with its own thresholds it is neutral here.

Texts per domain feed the importance scores: the user's memories labelled with the domain and, for a
pruned domain the user has no memory in, a short generic text built from the lexicon's cue words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from personal_memory.pms.domains import DOMAIN_CUES
from personal_memory.pms.schema import MemoryEntry

KEEP_ABOVE = 0.05
PRUNE_BELOW = 0.01


class Decision(StrEnum):
    KEEP = "keep"
    PRUNE = "prune"
    NEUTRAL = "neutral"


class DomainShare(BaseModel):
    domain: str
    count: int = Field(ge=0)
    share: float = Field(ge=0.0, le=1.0)
    decision: Decision


class DomainPlan(BaseModel):
    """Every known or activated domain with its share of activations and what pruning does with it."""

    total: int
    keep_above: float = Field(KEEP_ABOVE, ge=0.0, le=1.0)
    prune_below: float = Field(PRUNE_BELOW, ge=0.0, le=1.0)
    domains: list[DomainShare] = Field(default_factory=list)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> DomainPlan:
        if self.prune_below > self.keep_above:
            raise ValueError(f"prune_below ({self.prune_below}) must not exceed keep_above ({self.keep_above})")
        return self

    def named(self, decision: Decision) -> list[str]:
        return [d.domain for d in self.domains if d.decision is decision]


def plan_domains(
    counts: Mapping[str, int],
    keep_above: float = KEEP_ABOVE,
    prune_below: float = PRUNE_BELOW,
    known: Sequence[str] = tuple(DOMAIN_CUES),
) -> DomainPlan:
    """Shares and decisions, most activated first. With no activation logged yet, nothing is pruned."""
    total = sum(counts.values())
    names = dict.fromkeys([*counts, *known])
    shares: list[DomainShare] = []
    for name in names:
        count = counts.get(name, 0)
        share = count / total if total else 0.0
        if not total:
            decision = Decision.NEUTRAL
        elif share > keep_above:
            decision = Decision.KEEP
        elif share < prune_below:
            decision = Decision.PRUNE
        else:
            decision = Decision.NEUTRAL
        shares.append(DomainShare(domain=name, count=count, share=share, decision=decision))
    shares.sort(key=lambda d: (-d.count, d.domain))
    return DomainPlan(total=total, keep_above=keep_above, prune_below=prune_below, domains=shares)


def generic_text(domain: str) -> str:
    """A few sentences about a domain from the lexicon's cue words (for pruned domains without user data)."""
    cues = [c.rstrip("*") for c in DOMAIN_CUES.get(domain, ())]
    if not cues:
        return f"This is a question about {domain}. Tell me more about {domain}."
    return (
        f"This is a question about {domain}: {', '.join(cues[:6])}. "
        f"Tell me more about {' and '.join(cues[-3:])} in {domain}."
    )


def split_memories(memories: Sequence[MemoryEntry], plan: DomainPlan) -> tuple[set[str], dict[str, list[str]]]:
    """Ids of the memories that are the user's own data, and the texts of each pruned domain.

    A memory belongs to the pruned side only when every domain it is labelled with is a prune
    candidate; a pruned domain with no such memory gets its generic text.
    """
    pruned = set(plan.named(Decision.PRUNE))
    keep_ids: set[str] = set()
    texts: dict[str, list[str]] = {d: [] for d in plan.named(Decision.PRUNE)}
    for entry in memories:
        if entry.domains and set(entry.domains) <= pruned:
            for domain in entry.domains:
                texts[domain].append(entry.content)
        else:
            keep_ids.add(str(entry.id))
    return keep_ids, {d: t or [generic_text(d)] for d, t in texts.items()}
