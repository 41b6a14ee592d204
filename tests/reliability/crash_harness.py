"""Kill a writer process at random instants and check what it acknowledged against the stores."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryStatus, Tier
from personal_memory.pms.service import TIER_ORDER, MemoryService
from tests.reliability.remember_worker import content_of, correction_of

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Acks:
    """Every operation the worker acknowledged: seq -> (kind, ids)."""

    done: dict[int, tuple[str, list[str]]] = field(default_factory=dict)

    def next_seq(self) -> int:
        return max(self.done, default=-1) + 1

    def record(self, line: str) -> None:
        _, seq, kind, *ids = line.split()
        previous = self.done.setdefault(int(seq), (kind, ids))
        assert previous == (kind, ids), f"operation {seq} acknowledged twice with different ids: {previous} {ids}"


def run_and_kill(home: Path, acks: Acks, rng: random.Random, max_delay: float) -> None:
    """Start the worker, SIGKILL it a random time after it is ready, and record its acknowledgements."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.remember_worker", str(home), str(acks.next_seq())],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    killer = threading.Timer(120, proc.kill)  # a worker that never becomes ready must not hang the test
    killer.start()
    try:
        first = proc.stdout.readline()
        assert first == "ready\n", proc.stderr.read() if proc.stderr else first
        killer.cancel()
        killer = threading.Timer(rng.uniform(0, max_delay), proc.kill)
        killer.start()
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut short by the kill was never acknowledged
                acks.record(line)
    finally:
        killer.cancel()
        proc.kill()
        proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -9, f"the worker died on its own: {stderr}"


def assert_nothing_lost(home: Path, acks: Acks) -> None:
    """Every acknowledged write is there exactly once, and every file is intact."""
    paths = DataPaths(home)
    for sqlite_file in (paths.short_term, paths.long_term / "records.sqlite"):
        assert_sqlite_intact(sqlite_file)
    service = MemoryService(paths, HashEmbedder())
    try:
        entries = [e for tier in TIER_ORDER for e in service.store(tier).iter_entries()]
        copies = Counter(e.content for e in entries)
        duplicated = sorted(c for c, n in copies.items() if n > 1)
        assert not duplicated, f"stored more than once: {duplicated}"
        for seq, (kind, ids) in acks.done.items():
            entry = service.find(UUID(ids[0]))
            if kind == "correct":
                old = service.find(UUID(ids[1]))
                assert entry.content == correction_of(seq) and entry.supersedes == old.id
                assert old.status is MemoryStatus.SUPERSEDED and old.superseded_by == entry.id
            else:
                assert entry.content == content_of(seq)
        long_term = service.store(Tier.LONG_TERM)
        long_ids = [e.id for e in long_term.iter_entries()]
        vectors = service.embedder.embed([content_of(seq) for seq, (kind, _) in acks.done.items() if kind == "long"])
        for vector in vectors:  # every long-term record is searchable in LanceDB
            best, score = long_term.dense_search(vector, 1)[0]
            assert best in long_ids and score > 0.99
    finally:
        service.close()


def assert_sqlite_intact(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('integrity-check')")
    finally:
        conn.close()
