"""A durable SQLite table of memory records (WAL, full sync), shared by every tier.

Each tier keeps its memories' full records here; the long-term tier adds LanceDB as its search
index, the others search this file directly (FTS5 + an in-process vector cache).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from uuid import UUID

import numpy as np

from personal_memory.pms.errors import StoreMismatchError
from personal_memory.pms.migrations import RECORDS, migrate
from personal_memory.pms.schema import MemoryEntry

_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """Turn free text into a safe FTS5 query: quoted words joined by OR (no operator can be injected)."""
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 1 or w.isdigit()]
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words))


@contextmanager
def immediate(conn: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """An IMMEDIATE transaction: writers from other processes wait instead of failing; rolled back on error."""
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def connect(path: Path, sync_every_commit: bool = True) -> sqlite3.Connection:
    """Open a SQLite file for concurrent use by several processes.

    Every commit survives a killed process (WAL). ``sync_every_commit`` also makes it survive a power
    loss, at the cost of an fsync per commit; without it the last commits before a power loss may be lost.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if sync_every_commit else 'NORMAL'}")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA secure_delete=ON")  # deleted memories are overwritten, not left in free pages
    return conn


def recorded_embedding(path: Path) -> str | None:
    """The embedder identity the records file at ``path`` was made with (read only); None when it has none."""
    if not path.exists():
        return None
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'embedding'").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


class RecordTable:
    """Memories of one tier in one SQLite file: full records, embeddings, FTS5, expiry times."""

    def __init__(self, path: Path, embedding_identity: str) -> None:
        self.path = path
        self._conn = connect(path)
        self._lock = threading.RLock()
        migrate(self._conn, RECORDS, path)  # refuses a newer file; brings an older one up to date
        with self.transaction() as conn:
            self._check_embedding(conn, embedding_identity)

    def _check_embedding(self, conn: sqlite3.Connection, expected: str) -> None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'embedding'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta(key, value) VALUES ('embedding', ?)", (expected,))
        elif row[0] != expected:
            raise StoreMismatchError(
                f"{self.path} holds vectors of {row[0]!r} but the configured embedder is {expected!r}; "
                "vector spaces never mix. Set PMEM_EMBEDDER=auto (the default: the model the store was made "
                "with), or move your memories to the new model with `pmem export` then `pmem import` into a "
                "fresh PMEM_HOME (import re-embeds them)."
            )

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._conn, self._lock)

    def data_version(self) -> int:
        """Changes whenever another connection commits to this file: cheap cache invalidation."""
        with self._lock:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    # writes ---------------------------------------------------------------------------------------

    def insert(self, conn: sqlite3.Connection, entry: MemoryEntry, expires_at: float | None = None) -> None:
        self.insert_many(conn, [(entry, expires_at)])

    def insert_many(self, conn: sqlite3.Connection, entries: list[tuple[MemoryEntry, float | None]]) -> None:
        """Insert records, each with its expiry time, in the caller's transaction (one statement for all)."""
        conn.executemany(
            "INSERT INTO memories(id, content_hash, status, content, created_at, expires_at, indexed, entry, "
            "embedding) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [
                (
                    str(entry.id),
                    entry.content_hash,
                    entry.status.value,
                    entry.content,
                    entry.created_at.isoformat(),
                    expires_at,
                    entry.without_embedding().model_dump_json(),
                    np.asarray(entry.embedding, dtype=np.float32).tobytes(),
                )
                for entry, expires_at in entries
            ],
        )

    def update(self, conn: sqlite3.Connection, entry: MemoryEntry) -> bool:
        """Rewrite a record's metadata (never its embedding or content); False when the id is gone."""
        cur = conn.execute(
            "UPDATE memories SET status = ?, entry = ? WHERE id = ?",
            (entry.status.value, entry.without_embedding().model_dump_json(), str(entry.id)),
        )
        return cur.rowcount == 1

    def supersede(
        self, conn: sqlite3.Connection, old: MemoryEntry, new: MemoryEntry, expires_at: float | None = None
    ) -> bool:
        """Insert ``new`` and rewrite ``old`` in the caller's transaction; False (writes nothing) if ``old`` is gone."""
        if not self.update(conn, old):
            return False
        self.insert(conn, new, expires_at)
        return True

    def delete(self, conn: sqlite3.Connection, memory_id: UUID) -> bool:
        return conn.execute("DELETE FROM memories WHERE id = ?", (str(memory_id),)).rowcount == 1

    def clear(self, conn: sqlite3.Connection) -> int:
        return conn.execute("DELETE FROM memories").rowcount

    def scrub(self) -> None:
        """Leave no copy of deleted text behind: merge the FTS index and empty the WAL into the main file."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def mark_indexed(self, ids: Iterable[UUID]) -> None:
        with self.transaction() as conn:
            conn.executemany("UPDATE memories SET indexed = 1 WHERE id = ?", [(str(i),) for i in ids])

    # reads ----------------------------------------------------------------------------------------

    def get_many(self, ids: Iterable[UUID], with_embedding: bool = False) -> dict[UUID, MemoryEntry]:
        keys = [str(i) for i in ids]
        if not keys:
            return {}
        out: dict[UUID, MemoryEntry] = {}
        vector = "embedding" if with_embedding else "NULL"  # a vector is 1.5 kB: reading 150 of them doubles the query
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT entry, {vector} FROM memories WHERE id IN ({marks})",  # noqa: S608 - placeholders only
                    chunk,
                ).fetchall()
                for entry_json, blob in rows:
                    entry = _load(entry_json, blob)
                    out[entry.id] = entry
        return out

    def find_by_hash(self, content_hash: str) -> MemoryEntry | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT entry FROM memories WHERE content_hash = ? ORDER BY (status = 'active') DESC LIMIT 1",
                (content_hash,),
            ).fetchone()
        return _load(row[0]) if row else None

    def count(self, status: str | None = None) -> int:
        with self._lock:
            if status is None:
                return int(self._conn.execute("SELECT count(*) FROM memories").fetchone()[0])
            return int(self._conn.execute("SELECT count(*) FROM memories WHERE status = ?", (status,)).fetchone()[0])

    def iter_entries(self, batch: int = 500) -> Iterator[MemoryEntry]:
        last = ""
        while True:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT id, entry FROM memories WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
                ).fetchall()
            if not rows:
                return
            for _, entry_json in rows:
                yield _load(entry_json)
            last = rows[-1][0]

    def active_vectors(self) -> tuple[list[UUID], np.ndarray]:
        """Ids and embeddings of every active record, for the in-process vector cache."""
        with self._lock:
            rows = self._conn.execute("SELECT id, embedding FROM memories WHERE status = 'active'").fetchall()
        ids = [UUID(r[0]) for r in rows]
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])

    def unindexed(self) -> list[MemoryEntry]:
        with self._lock:
            rows = self._conn.execute("SELECT entry, embedding FROM memories WHERE indexed = 0").fetchall()
        return [_load(e, b) for e, b in rows]

    def expired_ids(self, now_ts: float) -> list[UUID]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ?", (now_ts,)
            ).fetchall()
        return [UUID(r[0]) for r in rows]

    def text_search(self, query: str, limit: int) -> list[tuple[UUID, float]]:
        """FTS5 BM25 over active records; higher score is better."""
        match = fts_query(query)
        if match is None:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT m.id, -bm25(memories_fts) AS score FROM memories_fts JOIN memories m "
                "ON m.rowid = memories_fts.rowid WHERE memories_fts MATCH ? AND m.status = 'active' "
                "ORDER BY score DESC LIMIT ?",
                (match, limit),
            ).fetchall()
        return [(UUID(r[0]), float(r[1])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _load(entry_json: str, embedding: bytes | None = None) -> MemoryEntry:
    entry = MemoryEntry.model_validate_json(entry_json)
    if embedding is not None:
        entry.embedding = np.frombuffer(embedding, dtype=np.float32).tolist()
    return entry


def timestamp(value: datetime) -> float:
    return value.timestamp()
