"""Two real server processes on one data dir: no write lost or doubled, no memory promoted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import EventKind, Tier, utcnow
from personal_memory.pms.service import TIER_ORDER, MemoryService

ROOT = Path(__file__).resolve().parents[2]


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.engine_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )


def _acked(output: str) -> list[UUID]:
    return [UUID(line.split()[1]) for line in output.splitlines() if line.startswith("ack ")]


def _copies(home: Path, ids: list[UUID]) -> Counter[UUID]:
    """How many records each id has across all tiers."""
    service = MemoryService(DataPaths(home), HashEmbedder())
    try:
        return Counter(i for tier in TIER_ORDER for i in service.store(tier).get_many(ids))
    finally:
        service.close()


def test_two_processes_writing_at_once_keep_every_acknowledged_memory_exactly_once(isolated_home: Path) -> None:
    writers = [_worker("write", str(isolated_home), name, "40") for name in ("desktop", "code")]
    outputs = [w.communicate(timeout=120) for w in writers]
    assert all(w.returncode == 0 for w in writers), [err for _, err in outputs]
    acked = [i for out, _ in outputs for i in _acked(out)]
    assert len(acked) == len(set(acked)) == 80
    assert set(_copies(isolated_home, acked).values()) == {1}


def test_a_writer_killed_mid_write_loses_no_acknowledged_memory(isolated_home: Path) -> None:
    writer = _worker("write", str(isolated_home), "victim", "100000")
    assert writer.stdout is not None
    acked: list[UUID] = []
    for line in writer.stdout:
        acked.extend(_acked(line))
        if len(acked) == 25:
            writer.send_signal(signal.SIGKILL)
            break
    writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    survivor = _worker("write", str(isolated_home), "survivor", "5")  # the dead writer's lock is released
    out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    copies = _copies(isolated_home, acked + _acked(out))
    assert len(copies) == 30 and set(copies.values()) == {1}


def test_two_processes_promoting_at_once_move_each_memory_once(isolated_home: Path) -> None:
    writer = _worker("write", str(isolated_home), "seed", "45")
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    acked = _acked(out)
    later = (utcnow() + timedelta(days=1)).isoformat()  # validated ones move; the rest wait (not yet 3 days)
    promoters = [_worker("promote", str(isolated_home), later) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in promoters]
    assert all(p.returncode == 0 for p in promoters), [e for _, e in outputs]
    moved = [line.split()[1] for out, _ in outputs for line in out.splitlines() if line.startswith("moved ")]
    assert len(moved) == 15 and len(set(moved)) == 15
    service = MemoryService(DataPaths(isolated_home), HashEmbedder())
    try:
        for memory_id in acked:
            entry = service.find(memory_id)
            promotions = [e for e in entry.history if e.kind is EventKind.PROMOTED]
            assert len(promotions) == (1 if entry.validated else 0)
            assert entry.tier is (Tier.LONG_TERM if entry.validated else Tier.SHORT_TERM)
    finally:
        service.close()
    assert set(_copies(isolated_home, acked).values()) == {1}
