"""The narrow interfaces the memory service depends on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol
from uuid import UUID

import numpy as np

from personal_memory.pms.embedding import Embedder
from personal_memory.pms.schema import MemoryEntry, Tier

__all__ = ["Embedder", "ScoredId", "TierStore"]

ScoredId = tuple[UUID, float]


class TierStore(Protocol):
    """One tier's memories: durable records plus the indexes that search them."""

    tier: Tier

    def add(self, entry: MemoryEntry, expires_at: float | None = None) -> None:
        """Store a new record with its embedding; durable when this returns."""
        ...

    def add_many(self, entries: list[MemoryEntry]) -> None:
        """``add`` several records in one transaction; each expires at its own ``expires_at``."""
        ...

    def supersede(self, old: MemoryEntry, new: MemoryEntry, expires_at: float | None = None) -> bool:
        """Store ``new`` and rewrite ``old`` (its replacement) atomically: both or neither, even on a crash.

        False, with nothing written, when ``old`` is no longer in this tier.
        """
        ...

    def update(self, entry: MemoryEntry) -> bool:
        """Rewrite a record's metadata; False when it is no longer in this tier."""
        ...

    def update_many(self, entries: list[MemoryEntry]) -> int:
        """``update`` several records in one transaction; how many were still in this tier."""
        ...

    def remove(self, memory_id: UUID) -> bool:
        """Delete a record and every copy of its text the store keeps (indexes, old versions)."""
        ...

    def clear(self) -> int:
        """Delete every record, as ``remove`` does; return how many there were."""
        ...

    def get_many(self, ids: list[UUID], with_embedding: bool = False) -> dict[UUID, MemoryEntry]: ...

    def find_by_hash(self, content_hash: str) -> MemoryEntry | None: ...

    def dense_search(self, vector: np.ndarray, limit: int) -> list[ScoredId]:
        """Active records by cosine similarity (higher is closer)."""
        ...

    def dense_search_many(self, vectors: np.ndarray, limit: int) -> list[list[ScoredId]]:
        """``dense_search`` for each row of ``vectors``, at once."""
        ...

    def text_search(self, query: str, limit: int) -> list[ScoredId]:
        """Active records by full-text relevance (higher is better)."""
        ...

    def count(self, status: str | None = None) -> int: ...

    def iter_entries(self) -> Iterator[MemoryEntry]: ...

    def expired_ids(self, now_ts: float) -> list[UUID]: ...

    def close(self) -> None: ...
