"""The long-term tier: LanceDB for vector and full-text search, SQLite for the durable records.

LanceDB holds only what it searches (id, content, vector). Each record's mutable metadata (access
counts, confidence, relations, status) lives in ``records.sqlite`` beside it, so recall's access-count
updates never create LanceDB versions. The records file is the source of truth: a record whose
index row was not written (a crash between the two writes) is re-indexed from its stored embedding
when the store opens.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import numpy as np

from personal_memory.pms.ports import ScoredId
from personal_memory.pms.schema import MemoryEntry, Tier
from personal_memory.pms.stores.sqlite_records import RecordTable

if TYPE_CHECKING:
    import lancedb

logger = logging.getLogger(__name__)

TABLE = "memories"
_WORD = re.compile(r"\w+", re.UNICODE)


class LanceTierStore:
    tier = Tier.LONG_TERM

    def __init__(self, directory: Path, embedding_identity: str, dim: int, uri: str | None = None) -> None:
        import lancedb
        import pyarrow as pa

        self._records = RecordTable(directory / "records.sqlite", embedding_identity)
        self._db = lancedb.connect(uri or str(directory / "lancedb"), read_consistency_interval=timedelta(0))
        schema = pa.schema(
            [
                pa.field("id", pa.string()),
                pa.field("content", pa.string()),
                pa.field("vector", pa.list_(pa.float32(), dim)),
            ]
        )
        self._table: lancedb.table.Table = self._db.create_table(TABLE, schema=schema, exist_ok=True)
        self._lock = threading.Lock()
        self._has_fts = any(idx.index_type == "FTS" for idx in self._table.list_indices())
        self._reindex_missing()

    def _reindex_missing(self) -> None:
        pending = self._records.unindexed()
        if not pending:
            return
        present = self._present_ids([e.id for e in pending])
        missing = [e for e in pending if e.id not in present]
        if missing:
            logger.info("Re-indexing %d long-term memories after an interrupted write", len(missing))
            self._index(missing)
        self._records.mark_indexed([e.id for e in pending])

    def _present_ids(self, ids: list[UUID]) -> set[UUID]:
        if not ids:
            return set()
        quoted = ",".join(f"'{i}'" for i in ids)  # UUIDs only: nothing to escape
        rows = self._table.search().where(f"id IN ({quoted})").select(["id"]).limit(len(ids)).to_list()
        return {UUID(r["id"]) for r in rows}

    def _index(self, entries: list[MemoryEntry]) -> None:
        rows: list[dict[str, Any]] = [
            {"id": str(e.id), "content": e.content, "vector": np.asarray(e.embedding, dtype=np.float32)}
            for e in entries
        ]
        with self._lock:
            self._table.add(rows)
            if not self._has_fts:
                from lancedb.index import FTS

                self._table.create_index("content", config=FTS(with_position=False), replace=True)
                self._has_fts = True

    def add(self, entry: MemoryEntry, expires_at: float | None = None) -> None:
        self.add_many([entry])

    def add_many(self, entries: list[MemoryEntry]) -> None:
        with self._records.transaction() as conn:
            for entry in entries:
                self._records.insert(conn, entry)
        self._index(entries)
        self._records.mark_indexed([e.id for e in entries])

    def supersede(self, old: MemoryEntry, new: MemoryEntry, expires_at: float | None = None) -> bool:
        with self._records.transaction() as conn:
            if not self._records.supersede(conn, old, new):
                return False
        self._index([new])
        self._records.mark_indexed([new.id])
        return True

    def update(self, entry: MemoryEntry) -> bool:
        with self._records.transaction() as conn:
            return self._records.update(conn, entry)

    def remove(self, memory_id: UUID) -> bool:
        with self._records.transaction() as conn:
            found = self._records.delete(conn, memory_id)
        with self._lock:
            self._table.delete(f"id = '{memory_id}'")
        if found:
            self._records.scrub()
            self._purge_deleted()
        return found

    def clear(self) -> int:
        with self._records.transaction() as conn:
            count = self._records.clear(conn)
        with self._lock:
            self._table.delete("true")
        self._records.scrub()
        self._purge_deleted()
        return count

    def _purge_deleted(self) -> None:
        """Rewrite fragments holding deleted rows and drop every old version, so deleted text leaves the disk."""
        with self._lock, warnings.catch_warnings():
            # Dropping every old version is the point here; writers are excluded by the service's write lock.
            warnings.filterwarnings("ignore", r"optimize\(cleanup_older_than=0\)", UserWarning)
            self._table.to_lance().optimize.compact_files(materialize_deletions_threshold=0.0)
            self._table.optimize(cleanup_older_than=timedelta(0))

    def get_many(self, ids: list[UUID], with_embedding: bool = False) -> dict[UUID, MemoryEntry]:
        return self._records.get_many(ids, with_embedding)

    def find_by_hash(self, content_hash: str) -> MemoryEntry | None:
        return self._records.find_by_hash(content_hash)

    def dense_search(self, vector: np.ndarray, limit: int) -> list[ScoredId]:
        rows = (
            self._table.search(vector.astype(np.float32), vector_column_name="vector")
            .metric("cosine")
            .select(["id", "_distance"])
            .limit(limit)
            .to_list()
        )
        return [(UUID(r["id"]), 1.0 - float(r["_distance"])) for r in rows]

    def text_search(self, query: str, limit: int) -> list[ScoredId]:
        words = _WORD.findall(query.lower())
        if not words or not self._has_fts:
            return []
        rows = self._table.search(" ".join(words), query_type="fts").select(["id", "_score"]).limit(limit).to_list()
        return [(UUID(r["id"]), float(r["_score"])) for r in rows]

    def count(self, status: str | None = None) -> int:
        return self._records.count(status)

    def iter_entries(self) -> Iterator[MemoryEntry]:
        return self._records.iter_entries()

    def expired_ids(self, now_ts: float) -> list[UUID]:
        return self._records.expired_ids(now_ts)

    def optimize(self) -> None:
        """Compact fragments, fold new rows into the indexes and drop old versions."""
        with self._lock:
            self._table.optimize(cleanup_older_than=timedelta(0))

    def close(self) -> None:
        self._records.close()
