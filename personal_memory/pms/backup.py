"""``pmem backup``: a consistent copy of the data dir's stores, taken while servers keep running.

The data dir's write lock is held for the copy, so no tier changes half-way (readers go on);
SQLite files are copied with SQLite's online backup API, LanceDB's folder file by file (its files
are immutable once written, and no write happens under the lock).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from personal_memory.pms.service import MemoryService

SQLITE_SUFFIX = ".sqlite"
SKIPPED = ("-wal", "-shm", ".lock")


def backup(service: MemoryService, target: Path) -> list[Path]:
    """Copy ``PMEM_HOME/data`` to ``target`` (a new, private folder); return the files written."""
    source = service.paths.home / "data"
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose a new folder for the backup.")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    written: list[Path] = []
    with service.writing():
        for path in sorted(source.rglob("*")):
            if path.is_dir() or path.name.endswith(SKIPPED) or path.name.startswith(".write"):
                continue
            copy = partial / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if path.suffix == SQLITE_SUFFIX:
                _backup_sqlite(path, copy)
            else:
                shutil.copy2(path, copy)
            written.append(target / path.relative_to(source))
    os.replace(partial, target)
    return written


def _backup_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
