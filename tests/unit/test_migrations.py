"""Schema versions: stores made by the first released schema are migrated; newer ones are refused.

The fixtures are built here from the DDL that shipped (frozen copies, on purpose not imported from
the migrations), as a user's files from that release would look.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import numpy as np
import pytest

from personal_memory.plm.trainer.store import TRAINER, TrainerStore
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.errors import StoreMismatchError
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.migrations import INTERACTIONS, RECORDS, Migration, Schema, migrate, schema_version
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import content_hash
from personal_memory.pms.service import MemoryService, RecallQuery
from personal_memory.pms.stores.sqlite_records import RecordTable, connect

# personal_memory/pms/stores/sqlite_records.py at the first release (909ed01): schema version 1.
RECORDS_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memories (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at REAL,
    indexed INTEGER NOT NULL DEFAULT 0,
    entry TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_hash ON memories(content_hash);
CREATE INDEX IF NOT EXISTS memories_expiry ON memories(expires_at);
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
    content, content='memories', content_rowid='rowid', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER IF NOT EXISTS memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;
CREATE TRIGGER IF NOT EXISTS memories_au AFTER UPDATE OF content ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
END;
"""

# personal_memory/pms/interaction_log.py at the first release: no version recorded at all.
INTERACTIONS_V1 = """
CREATE TABLE IF NOT EXISTS interactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    result TEXT NOT NULL,
    memory_ids TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    teacher_model TEXT
);
"""

# personal_memory/plm/trainer/store.py as first committed (b046a3e): the queue and cursor, no version.
TRAINER_V1 = """
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

FIRST_RELEASE_MEMORY = "My daughter Alice was born in March 2019"


def _v1_records(path: Path, content: str) -> str:
    """A records file as the first release wrote it, holding one memory; returns the memory's id."""
    memory_id = str(uuid4())
    when = datetime(2026, 11, 25, 20, 0, tzinfo=UTC).isoformat()
    entry = {  # MemoryEntry's fields at the first release
        "id": memory_id, "content": content, "summary": None, "content_hash": content_hash(content),
        "tier": "persistent", "truth_category": "absolute", "memory_type": "fact",
        "confidence": {"overall": 0.9, "source_reliability": 0.9, "recency": 1.0, "corroboration_count": 2,
                       "contradiction_count": 0},
        "embedding": [], "tags": ["family"], "domains": ["family"], "entities": ["Alice"], "related_memories": [],
        "contradicts": [], "supports": [], "supersedes": None,
        "sources": [{"kind": "conversation", "reference": None, "timestamp": when, "reliability": 0.9}],
        "created_at": when, "updated_at": when, "last_accessed": when, "access_count": 0,
        "status": "active", "superseded_by": None, "validated": True, "expires_at": None,
    }  # fmt: skip
    embedder = HashEmbedder()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(RECORDS_V1)
        conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)", [("schema_version", "1"), ("embedding", embedder.identity)]
        )
        conn.execute(
            "INSERT INTO memories(id, content_hash, status, content, created_at, expires_at, indexed, entry, "
            "embedding) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (memory_id, entry["content_hash"], "active", content, when, None, json.dumps(entry),
             np.asarray(embedder.embed([content])[0], dtype=np.float32).tobytes()),
        )  # fmt: skip
    conn.close()
    return memory_id


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return schema_version(conn)
    finally:
        conn.close()


def _schema_of(path: Path) -> set[tuple[str, str]]:
    """Every table, index and trigger in the file, by kind and name."""
    conn = sqlite3.connect(path)
    try:
        return {(r[0], r[1]) for r in conn.execute("SELECT type, name FROM sqlite_master")}
    finally:
        conn.close()


def test_a_data_dir_of_the_first_release_is_migrated_and_its_memories_still_recalled(paths: DataPaths) -> None:
    memory_id = _v1_records(paths.persistent, FIRST_RELEASE_MEMORY)
    service = MemoryService(paths, HashEmbedder())
    try:
        hits = service.recall(RecallQuery(text="when was Alice born", limit=1))
        assert [str(h.entry.id) for h in hits] == [memory_id]
        assert hits[0].entry.entities == ["Alice"] and hits[0].entry.validated
    finally:
        service.close()
    assert _version(paths.persistent) == RECORDS.version == 2
    assert ("index", "memories_status") in _schema_of(paths.persistent)


def test_an_interaction_log_from_before_stores_had_versions_is_adopted_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "interactions.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(INTERACTIONS_V1)
        conn.execute(
            "INSERT INTO interactions(ts, tool, arguments, result, memory_ids, ok) VALUES (?, ?, ?, ?, ?, 1)",
            ("2026-11-25T20:00:00+00:00", "recall", '{"query": "Alice"}', '{"memories": []}', "[]"),
        )
    conn.close()
    log = InteractionLog(path)
    try:
        assert [(e.tool, e.arguments) for e in log.read()] == [("recall", {"query": "Alice"})]
    finally:
        log.close()
    assert _version(path) == INTERACTIONS.version


def test_a_trainer_store_of_the_first_schema_keeps_its_queue_and_learns_to_forget(tmp_path: Path) -> None:
    path = tmp_path / "trainer.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(TRAINER_V1)
        conn.execute(
            "INSERT INTO events(source_seq, kind, text, weight, memory_id, created_at) VALUES (1, 'memory', ?, 1.0, "
            "'m-1', '2026-11-25T20:00:00+00:00')",
            (FIRST_RELEASE_MEMORY,),
        )
        conn.execute("INSERT INTO cursor(name, seq) VALUES ('log', 1)")
    conn.close()
    store = TrainerStore(path)
    try:
        assert [q.event.text for q in store.pending()] == [FIRST_RELEASE_MEMORY]
        assert store.forget_memory("m-1", [1]) == 1 and store.pending() == []
    finally:
        store.close()
    assert _version(path) == TRAINER.version == 2


Opener = Callable[[Path], object]
OPENERS: dict[str, tuple[Opener, str]] = {
    "records": (lambda p: RecordTable(p, HashEmbedder().identity), RECORDS_V1),
    "interactions": (InteractionLog, INTERACTIONS_V1),
    "trainer": (TrainerStore, TRAINER_V1),
}


@pytest.mark.parametrize("store", sorted(OPENERS))
def test_a_store_written_by_a_newer_pmem_is_refused_and_left_as_it_was(tmp_path: Path, store: str) -> None:
    opener, ddl = OPENERS[store]
    path = tmp_path / f"{store}.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(ddl)
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '7')")
    conn.close()
    before = _schema_of(path)
    with pytest.raises(StoreMismatchError, match=r"schema version 7, but this pmem reads up to \d.*upgrade"):
        opener(path)
    assert _version(path) == 7 and _schema_of(path) == before


def test_several_processes_opening_an_old_store_at_once_migrate_it_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    _v1_records(path, FIRST_RELEASE_MEMORY)
    errors: list[BaseException] = []

    def open_it() -> None:
        conn = connect(path)
        try:
            migrate(conn, RECORDS, path)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and _version(path) == RECORDS.version


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    good = Migration(1, "a table", "CREATE TABLE IF NOT EXISTS kept (a INTEGER);")
    broken = Migration(2, "half a change", "CREATE TABLE added (a INTEGER);\nINSERT INTO missing VALUES (1);")
    conn = connect(path)
    try:
        migrate(conn, Schema("test", (good,)), path)
        with pytest.raises(sqlite3.OperationalError, match="missing"):
            migrate(conn, Schema("test", (good, broken)), path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert _version(path) == 1 and tables == {"kept", "meta"}


def test_migrations_must_be_numbered_from_one_in_order() -> None:
    with pytest.raises(ValueError, match="numbered 1..n"):
        Schema("test", (Migration(2, "skips one", "SELECT 1;"),))
    assert [m.version for m in TRAINER.migrations] == [1, 2]
