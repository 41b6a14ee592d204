"""The append-only interaction log: every tool call, for the sidecar trainer to consume.

SQLite in WAL mode: several server processes append while the trainer reads from its own cursor. Appends
are not fsynced (they are on every tool call's path): a killed server loses none, a power loss the last few.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from personal_memory.pms.migrations import INTERACTIONS, migrate
from personal_memory.pms.stores.sqlite_records import connect

REDACTED = '{"redacted": "a memory this call mentioned was forgotten"}'


class Interaction(BaseModel):
    seq: int
    ts: datetime
    tool: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    memory_ids: list[str]
    ok: bool
    error: str | None = None
    teacher_model: str | None = None


class InteractionLog:
    def __init__(self, path: Path) -> None:
        self._conn = connect(path, sync_every_commit=False)
        migrate(self._conn, INTERACTIONS, path)
        self._lock = threading.Lock()

    def append(
        self,
        ts: datetime,
        tool: str,
        arguments: dict[str, Any],
        result: dict[str, Any],
        memory_ids: list[str],
        error: str | None = None,
        teacher_model: str | None = None,
    ) -> int:
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO interactions(ts, tool, arguments, result, memory_ids, ok, error, teacher_model) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ts.isoformat(),
                    tool,
                    # ASCII JSON: lone surrogates a client sent are escaped instead of failing the insert.
                    json.dumps(arguments, default=str),
                    json.dumps(result, default=str),
                    json.dumps(memory_ids),
                    error is None,
                    error,
                    teacher_model,
                ),
            )
            return int(cur.lastrowid or 0)

    def read(self, after_seq: int = 0, limit: int = 1000) -> Iterator[Interaction]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, ts, tool, arguments, result, memory_ids, ok, error, teacher_model FROM interactions "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        for seq, ts, tool, args, result, ids, ok, error, teacher in rows:
            yield Interaction(
                seq=seq,
                ts=datetime.fromisoformat(ts),
                tool=tool,
                arguments=json.loads(args),
                result=json.loads(result),
                memory_ids=json.loads(ids),
                ok=bool(ok),
                error=error,
                teacher_model=teacher,
            )

    def exists(self, seq: int) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM interactions WHERE seq = ?", (seq,)).fetchone() is not None

    def redact_memory(self, memory_id: str) -> list[int]:
        """Blank the arguments and result of every call that mentions ``memory_id`` (``forget``).

        The rows stay, so the trainer's cursor and the sequence numbers keep their meaning, but no
        text of the forgotten memory is left in them, nor in the WAL. Returns the redacted rows' seqs.
        """
        needle = memory_id.lower()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                seqs = [
                    int(row[0])
                    for row in self._conn.execute(
                        "SELECT seq FROM interactions WHERE instr(lower(arguments), ?) OR instr(lower(result), ?) "
                        "OR instr(memory_ids, ?)",
                        (needle, needle, needle),
                    )
                ]
                self._conn.executemany(
                    "UPDATE interactions SET arguments = '{}', result = ? WHERE seq = ?",
                    [(REDACTED, seq) for seq in seqs],
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return seqs

    def clear(self) -> int:
        """Delete the whole log (``pmem forget --all``), leaving no copy in the WAL."""
        with self._lock:
            count = self._conn.execute("DELETE FROM interactions").rowcount
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM interactions").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
