"""The run ledger (``PMEM_HOME/data/ingest.sqlite``): what was ingested, and what waits to be stored.

A datapoint is keyed by its source reference and content hash, so a re-run on the same export skips
everything it already stored, and an edited note is read again. Candidates are staged here per input file
inside one transaction: a file that turns out corrupt is rolled back whole and never reaches the memory
store. Staged candidates are then stored in batches; a datapoint is marked done once all of its are stored,
so a run that was interrupted resumes with what was staged but not yet stored.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from personal_memory.ingest.datapoint import DataPoint
from personal_memory.ingest.errors import IngestError
from personal_memory.ingest.extraction import Candidate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datapoints (
    reference TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('staged', 'done')),
    candidates INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    PRIMARY KEY (reference, content_hash)
);
CREATE TABLE IF NOT EXISTS staged (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    candidate TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS staged_by_datapoint ON staged (reference, content_hash);
"""


class Ledger:
    """One writer at a time: a second ``pmem ingest`` on the same data dir is refused, not interleaved."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._lock_fd)
            raise IngestError(f"Another `pmem ingest` is running on {path.parent}; wait for it to finish.") from exc
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        os.chmod(path, 0o600)

    def close(self) -> None:
        self._db.close()
        os.close(self._lock_fd)

    def seen(self, point: DataPoint) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM datapoints WHERE reference = ? AND content_hash = ?", (point.reference, point.content_hash)
        ).fetchone()
        return row is not None

    @contextmanager
    def staging(self) -> Iterator[None]:
        """One file's staging: committed when the block ends, rolled back if it raises."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def stage(self, point: DataPoint, found: list[Candidate]) -> None:
        key = (point.reference, point.content_hash)
        state = "staged" if found else "done"  # nothing to store: done once this file's staging commits
        self._db.execute(
            "INSERT OR IGNORE INTO datapoints VALUES (?, ?, ?, ?, ?, ?)",
            (*key, point.source_kind, state, len(found), datetime.now(UTC).isoformat()),
        )
        self._db.executemany(
            "INSERT INTO staged (reference, content_hash, candidate) VALUES (?, ?, ?)",
            [(*key, c.model_dump_json()) for c in found],
        )

    def pending(self) -> int:
        return self._db.execute("SELECT count(*) FROM staged").fetchone()[0]

    def next_batch(self, size: int) -> list[tuple[int, Candidate]]:
        rows = self._db.execute("SELECT seq, candidate FROM staged ORDER BY seq LIMIT ?", (size,)).fetchall()
        return [(seq, Candidate.model_validate_json(payload)) for seq, payload in rows]

    def stored(self, last_seq: int) -> None:
        """The staged candidates up to ``last_seq`` are in the memory store: drop them, close finished datapoints."""
        with self.staging():
            keys = self._db.execute(
                "SELECT DISTINCT reference, content_hash FROM staged WHERE seq <= ?", (last_seq,)
            ).fetchall()
            self._db.execute("DELETE FROM staged WHERE seq <= ?", (last_seq,))
            self._db.executemany(
                "UPDATE datapoints SET state = 'done' WHERE reference = ? AND content_hash = ? AND NOT EXISTS "
                "(SELECT 1 FROM staged WHERE staged.reference = datapoints.reference "
                "AND staged.content_hash = datapoints.content_hash)",
                keys,
            )
