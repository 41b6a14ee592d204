"""Numbered, append-only schema migrations for pmem's SQLite stores.

Each store names its ``Schema``: an ordered tuple of migrations, the version being how many there are.
A store keeps its version in its ``meta`` table (``schema_version``), as the memory records of the
first release already did. Opening a store applies the migrations it lacks in one transaction, so
two processes opening an old store at once migrate it once; a store written by a newer pmem is refused.

Rules: never edit, reorder or remove a released migration; append a new one. Migration 1 is each
store's first DDL and must stay idempotent (``IF NOT EXISTS``): files made before stores carried a
version read as version 0, and migration 1 then finds their tables already there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from personal_memory.pms.errors import StoreMismatchError

__all__ = ["INTERACTIONS", "RECORDS", "Migration", "Schema", "migrate", "refuse_newer", "schema_version"]

_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    summary: str
    sql: str


@dataclass(frozen=True, slots=True)
class Schema:
    """A store's migrations, numbered 1, 2, ... in order."""

    name: str
    migrations: tuple[Migration, ...]

    def __post_init__(self) -> None:
        numbers = [m.version for m in self.migrations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.name} migrations must be numbered 1..n in order, got {numbers}")

    @property
    def version(self) -> int:
        return len(self.migrations)


def refuse_newer(found: int, supported: int, where: str) -> None:
    """Raise when a store was written by a newer pmem than this one."""
    if found > supported:
        raise StoreMismatchError(
            f"{where} has schema version {found}, but this pmem reads up to {supported}: upgrade personal-memory "
            "(pip install -U personal-memory) to open it. Nothing was changed."
        )


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the open file; 0 for a new file or one from before versioning."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection, schema: Schema, path: Path) -> int:
    """Bring the file open on ``conn`` (autocommit mode) to ``schema.version``; return the version it had."""
    found = schema_version(conn)
    refuse_newer(found, schema.version, str(path))
    if found == schema.version:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = schema_version(conn)  # another process may have migrated it while this one waited
        refuse_newer(found, schema.version, str(path))
        conn.execute(_META)
        for migration in schema.migrations[found:]:
            for statement in _statements(migration.sql):
                conn.execute(statement)
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(schema.version),),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found


def _statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (a trigger's body keeps its inner semicolons)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"Incomplete SQL statement in a migration: {pending.strip()[:80]!r}")


RECORDS = Schema(
    "memory records",
    (
        Migration(
            1,
            "records, content-hash and expiry indexes, FTS5 kept in step by triggers (first release)",
            """
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
""",
        ),
        Migration(
            2,
            "index on status: stats, the vector cache's load and recall's filter read only active records",
            "CREATE INDEX memories_status ON memories(status);",
        ),
    ),
)

INTERACTIONS = Schema(
    "interaction log",
    (
        Migration(
            1,
            "the append-only log of tool calls (first release, before stores carried a version)",
            """
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
""",
        ),
    ),
)
