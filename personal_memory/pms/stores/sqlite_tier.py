"""A tier kept wholly in SQLite: the short-term journal and the persistent core store.

Records, FTS5 and embeddings live in one WAL file; vectors are also cached in process as a numpy
matrix (exact cosine search), refreshed when this or another process commits a change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import numpy as np

from personal_memory.pms.ports import ScoredId
from personal_memory.pms.schema import MemoryEntry, Tier
from personal_memory.pms.stores.sqlite_records import RecordTable


class SqliteTierStore:
    def __init__(self, tier: Tier, path: Path, embedding_identity: str) -> None:
        self.tier = tier
        self._records = RecordTable(path, embedding_identity)
        self._lock = threading.Lock()
        self._cache_version: int | None = None
        self._ids: list[UUID] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def _invalidate(self) -> None:
        with self._lock:
            self._cache_version = None

    def _vectors(self) -> tuple[list[UUID], np.ndarray]:
        version = self._records.data_version()
        with self._lock:
            if self._cache_version != version:
                self._ids, self._matrix = self._records.active_vectors()
                self._cache_version = version
            return self._ids, self._matrix

    def add(self, entry: MemoryEntry, expires_at: float | None = None) -> None:
        with self._records.transaction() as conn:
            self._records.insert(conn, entry, expires_at)
        self._invalidate()

    def add_many(self, entries: list[MemoryEntry]) -> None:
        rows = [(entry, entry.expires_at.timestamp() if entry.expires_at else None) for entry in entries]
        with self._records.transaction() as conn:
            self._records.insert_many(conn, rows)
        self._invalidate()

    def supersede(self, old: MemoryEntry, new: MemoryEntry, expires_at: float | None = None) -> bool:
        with self._records.transaction() as conn:
            found = self._records.supersede(conn, old, new, expires_at)
        self._invalidate()
        return found

    def update(self, entry: MemoryEntry) -> bool:
        with self._records.transaction() as conn:
            found = self._records.update(conn, entry)
        self._invalidate()
        return found

    def update_many(self, entries: list[MemoryEntry]) -> int:
        if not entries:
            return 0
        with self._records.transaction() as conn:
            found = sum(self._records.update(conn, entry) for entry in entries)
        self._invalidate()
        return found

    def remove(self, memory_id: UUID) -> bool:
        with self._records.transaction() as conn:
            found = self._records.delete(conn, memory_id)
        self._invalidate()
        if found:
            self._records.scrub()
        return found

    def clear(self) -> int:
        with self._records.transaction() as conn:
            count = self._records.clear(conn)
        self._invalidate()
        self._records.scrub()
        return count

    def get_many(self, ids: list[UUID], with_embedding: bool = False) -> dict[UUID, MemoryEntry]:
        return self._records.get_many(ids, with_embedding)

    def find_by_hash(self, content_hash: str) -> MemoryEntry | None:
        return self._records.find_by_hash(content_hash)

    def dense_search(self, vector: np.ndarray, limit: int) -> list[ScoredId]:
        ids, matrix = self._vectors()
        if not ids:
            return []
        scores = matrix @ vector.astype(np.float32)
        top = np.argsort(-scores)[:limit]
        return [(ids[i], float(scores[i])) for i in top]

    def dense_search_many(self, vectors: np.ndarray, limit: int) -> list[list[ScoredId]]:
        ids, matrix = self._vectors()
        if not ids:
            return [[] for _ in range(len(vectors))]
        scores = vectors.astype(np.float32) @ matrix.T
        k = min(limit, len(ids))
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        out: list[list[ScoredId]] = []
        for row, cols in zip(scores, top, strict=True):
            ranked = cols[np.argsort(-row[cols])]
            out.append([(ids[i], float(row[i])) for i in ranked])
        return out

    def text_search(self, query: str, limit: int) -> list[ScoredId]:
        return self._records.text_search(query, limit)

    def count(self, status: str | None = None) -> int:
        return self._records.count(status)

    def iter_entries(self) -> Iterator[MemoryEntry]:
        return self._records.iter_entries()

    def expired_ids(self, now_ts: float) -> list[UUID]:
        return self._records.expired_ids(now_ts)

    def close(self) -> None:
        self._records.close()
