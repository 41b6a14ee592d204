"""The trainer's durable state (``data/trainer.sqlite``): cursor, queued events, feedback, domains, updates.

The cursor over the interaction log advances in the same transaction that stores what was extracted,
so a crash or restart neither loses nor double-counts an event. Events are marked as used by an
update only once that update has finished, so a killed update leaves them queued.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from personal_memory.plm.trainer.extraction import Extraction, LearningEvent
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.migrations import Migration, Schema, migrate
from personal_memory.pms.stores.sqlite_records import connect, immediate

_FIRST = """
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    weight REAL NOT NULL,
    memory_id TEXT,
    memory_type TEXT,
    query TEXT,
    teacher_model TEXT,
    created_at TEXT NOT NULL,
    update_id TEXT
);
CREATE INDEX IF NOT EXISTS events_pending ON events(update_id);
CREATE TABLE IF NOT EXISTS feedback (target TEXT PRIMARY KEY, multiplier REAL NOT NULL, ratings INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS domains (domain TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS updates (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    events INTEGER NOT NULL,
    adapter_id TEXT,
    metrics TEXT
);
CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, handled INTEGER NOT NULL);
"""

TRAINER = Schema(
    "trainer store",
    (
        Migration(1, "cursor, event queue, feedback, domains, updates, requests", _FIRST),
        Migration(
            2,
            "forgetting: events by memory and by source row, and log rows the trainer must skip",
            """
CREATE INDEX events_memory ON events(memory_id);
CREATE INDEX events_source ON events(source_seq);
CREATE TABLE forgotten (seq INTEGER PRIMARY KEY);
""",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    id: int
    event: LearningEvent
    weight: float
    """The event's weight times every feedback multiplier its memory received."""


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    id: str
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    status: str
    reason: str | None
    events: int
    adapter_id: str | None
    metrics: dict[str, float]


class TrainerStore:
    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        migrate(self._conn, TRAINER, path)
        self._lock = threading.RLock()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._conn, self._lock)

    # consumption ----------------------------------------------------------------------------------

    def cursor(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT seq FROM cursor WHERE name = 'log'").fetchone()
        return int(row[0]) if row else 0

    def apply(self, seq: int, extraction: Extraction, now: datetime) -> bool:
        """Store one interaction's extraction and move the cursor past it, atomically.

        Returns False (and changes nothing) when ``seq`` was already consumed, e.g. by another trainer.
        """
        with self._tx() as conn:
            row = conn.execute("SELECT seq FROM cursor WHERE name = 'log'").fetchone()
            if row and int(row[0]) >= seq:
                return False
            if conn.execute("SELECT 1 FROM forgotten WHERE seq = ?", (seq,)).fetchone() is not None:
                extraction = Extraction()  # read before `forget` redacted it: learn nothing from it
            for event in extraction.events:
                conn.execute(
                    "INSERT INTO events(source_seq, kind, text, weight, memory_id, memory_type, query, teacher_model, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, event.kind, event.text, event.weight, event.memory_id, event.memory_type, event.query,
                     event.teacher_model, now.isoformat()),
                )  # fmt: skip
            for domain in extraction.domains:
                conn.execute(
                    "INSERT INTO domains(domain, count) VALUES (?, 1) "
                    "ON CONFLICT(domain) DO UPDATE SET count = count + 1",
                    (domain,),
                )
            for signal in extraction.feedback:
                conn.execute(
                    "INSERT INTO feedback(target, multiplier, ratings) VALUES (?, ?, 1) ON CONFLICT(target) "
                    "DO UPDATE SET multiplier = multiplier * excluded.multiplier, ratings = ratings + 1",
                    (signal.target, signal.multiplier),
                )
            conn.execute(
                "INSERT INTO cursor(name, seq) VALUES ('log', ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
                (seq,),
            )
        return True

    def forget_memory(self, memory_id: str, log_seqs: list[int]) -> int:
        """Drop everything learned from a forgotten memory; return how many queued events went.

        ``log_seqs`` are the interaction-log rows that mentioned it (``InteractionLog.redact_memory``):
        events drawn from them go too, and those the trainer has not consumed yet are remembered as
        forgotten, so a trainer that read one before the redaction stores nothing from it. Updates
        that already finished keep what they learned; the events no longer feed later ones or replay.
        """
        with self._tx() as conn:
            row = conn.execute("SELECT seq FROM cursor WHERE name = 'log'").fetchone()
            cursor = int(row[0]) if row else 0
            conn.executemany("INSERT OR IGNORE INTO forgotten(seq) VALUES (?)", [(s,) for s in log_seqs if s > cursor])
            dropped = conn.execute("DELETE FROM events WHERE memory_id = ?", (memory_id,)).rowcount
            conn.execute("DELETE FROM feedback WHERE target = ?", (memory_id,))
            for seq in log_seqs:
                dropped += conn.execute("DELETE FROM events WHERE source_seq = ?", (seq,)).rowcount
                conn.execute("DELETE FROM feedback WHERE target = ?", (f"interaction:{seq}",))
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy of the deleted text in the WAL
        return dropped

    def clear(self) -> int:
        """Forget everything the trainer learned about: events, feedback, domain counts (``forget --all``).

        The cursor stays where it is (the log it points into is cleared alongside); update history stays.
        """
        with self._tx() as conn:
            dropped = conn.execute("DELETE FROM events").rowcount
            conn.execute("DELETE FROM feedback")
            conn.execute("DELETE FROM domains")
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return dropped

    # queue ----------------------------------------------------------------------------------------

    def pending(self) -> list[QueuedEvent]:
        """Events no finished update has used, with feedback multipliers applied."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT e.id, e.kind, e.text, e.weight, e.memory_id, e.memory_type, e.query, e.teacher_model, "
                "coalesce(f.multiplier, 1.0) * coalesce(g.multiplier, 1.0) FROM events e "
                "LEFT JOIN feedback f ON f.target = e.memory_id "
                "LEFT JOIN feedback g ON g.target = 'interaction:' || e.source_seq "
                "WHERE e.update_id IS NULL ORDER BY e.id"
            ).fetchall()
        return [_queued(row) for row in rows]

    def sample_used(self, limit: int) -> list[QueuedEvent]:
        """A replay sample of events earlier updates learned from, so old knowledge is rehearsed."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT e.id, e.kind, e.text, e.weight, e.memory_id, e.memory_type, e.query, e.teacher_model, "
                "coalesce(f.multiplier, 1.0) FROM events e LEFT JOIN feedback f ON f.target = e.memory_id "
                "WHERE e.update_id IS NOT NULL ORDER BY random() LIMIT ?",
                (limit,),
            ).fetchall()
        return [_queued(row) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM events WHERE update_id IS NULL").fetchone()[0])

    def oldest_pending(self) -> datetime | None:
        with self._lock:
            row = self._conn.execute("SELECT min(created_at) FROM events WHERE update_id IS NULL").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def domain_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT domain, count FROM domains ORDER BY count DESC, domain").fetchall()
        return {d: int(c) for d, c in rows}

    # requests and updates -------------------------------------------------------------------------

    def request_update(self, now: datetime) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO requests(ts, handled) VALUES (?, 0)", (now.isoformat(),))

    def update_requested(self) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM requests WHERE handled = 0 LIMIT 1").fetchone() is not None

    def start_update(self, update_id: str, trigger: str, n_events: int, now: datetime) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO updates(id, started_at, trigger, status, events) VALUES (?, ?, ?, 'running', ?)",
                (update_id, now.isoformat(), trigger, n_events),
            )

    def finish_update(
        self,
        update_id: str,
        event_ids: list[int],
        status: str,
        reason: str,
        adapter_id: str | None,
        metrics: dict[str, float],
        now: datetime,
    ) -> None:
        """Record the outcome and, in the same transaction, mark the events used and requests handled."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE updates SET finished_at = ?, status = ?, reason = ?, adapter_id = ?, metrics = ? WHERE id = ?",
                (now.isoformat(), status, reason, adapter_id, json.dumps(metrics), update_id),
            )
            conn.executemany("UPDATE events SET update_id = ? WHERE id = ?", [(update_id, i) for i in event_ids])
            conn.execute("UPDATE requests SET handled = 1 WHERE handled = 0")

    def abandon_running(self, now: datetime) -> int:
        """Mark updates left 'running' by a killed trainer as interrupted (their events stay queued)."""
        with self._tx() as conn:
            return conn.execute(
                "UPDATE updates SET status = 'interrupted', finished_at = ?, reason = 'trainer stopped mid-update' "
                "WHERE status = 'running'",
                (now.isoformat(),),
            ).rowcount

    def updates(self, limit: int = 20) -> list[UpdateRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, started_at, finished_at, trigger, status, reason, events, adapter_id, metrics "
                "FROM updates ORDER BY started_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            UpdateRecord(
                id=r[0],
                started_at=datetime.fromisoformat(r[1]),
                finished_at=datetime.fromisoformat(r[2]) if r[2] else None,
                trigger=r[3],
                status=r[4],
                reason=r[5],
                events=int(r[6]),
                adapter_id=r[7],
                metrics=json.loads(r[8]) if r[8] else {},
            )
            for r in rows
        ]

    def last_finished_update(self) -> datetime | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT max(finished_at) FROM updates WHERE status IN ('kept', 'rolled_back')"
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def forget_training_data(trainer_path: Path, log: InteractionLog, memory_id: str) -> int:
    """After ``forget``: redact the log rows that mention the memory and drop its queued events."""
    seqs = log.redact_memory(memory_id)
    store = TrainerStore(trainer_path)
    try:
        return store.forget_memory(memory_id, seqs)
    finally:
        store.close()


def _queued(row: tuple[Any, ...]) -> QueuedEvent:
    event_id, kind, text, weight, memory_id, memory_type, query, teacher, multiplier = row
    event = LearningEvent(
        kind=kind, text=text, weight=weight, memory_id=memory_id, memory_type=memory_type, query=query,
        teacher_model=teacher,
    )  # fmt: skip
    return QueuedEvent(id=int(event_id), event=event, weight=round(float(weight) * float(multiplier), 6))
