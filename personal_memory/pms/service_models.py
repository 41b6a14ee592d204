"""What the memory service takes and returns: its options, requests and outcomes (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from personal_memory.pms import confidence as conf
from personal_memory.pms.relations import RelationThresholds
from personal_memory.pms.schema import MAX_CONTENT_BYTES, MemoryEntry, MemorySource, MemoryType, Tier, TruthCategory

__all__ = ["CorrectOutcome", "NewMemory", "RecallHit", "RecallQuery", "RememberOutcome", "ServiceOptions"]


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """Tunables of the service; the composition root fills them from the user's configuration."""

    short_term_ttl: timedelta = timedelta(hours=48)
    max_content_bytes: int = MAX_CONTENT_BYTES
    half_life_days: float = conf.DEFAULT_HALF_LIFE_DAYS
    default_reliability: float = 0.8
    correction_reliability: float = 0.95
    lancedb_uri: str | None = None  # the long-term table's LanceDB: a folder or object storage (s3://, gs://, az://)
    lancedb_storage_options: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold credentials
    short_term_redis_url: str | None = None  # the short-term tier on this Redis instead of the data dir's SQLite
    relation_thresholds: RelationThresholds = field(default_factory=RelationThresholds)
    relation_neighbours: int = 5  # nearest memories a new one is compared with for corroboration/contradiction
    access_write_delay: float = 1.0  # seconds before recall's access counts are written (0: at once); see access.py


@dataclass(slots=True)
class NewMemory:
    """What a caller asks to remember; unset classification fields get defaults."""

    content: str
    memory_type: MemoryType | None = None
    truth_category: TruthCategory | None = None
    tags: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    source_reliability: float | None = None
    source: MemorySource | None = None


@dataclass(frozen=True, slots=True)
class RememberOutcome:
    entry: MemoryEntry
    created: bool
    corroborates: list[UUID] = field(default_factory=list)
    contradicts: list[UUID] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecallQuery:
    text: str
    limit: int = 10
    domains: list[str] | None = None
    memory_types: list[MemoryType] | None = None
    tiers: list[Tier] | None = None
    min_confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class RecallHit:
    entry: MemoryEntry
    score: float
    relevance: float


@dataclass(frozen=True, slots=True)
class CorrectOutcome:
    old: MemoryEntry
    new: MemoryEntry
