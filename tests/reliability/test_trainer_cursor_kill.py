"""The trainer's cursor under SIGKILL: a consumer killed at random points neither loses nor double-counts.

The consumer is a real process running ``Sidecar.consume`` over a real interaction log; this module is
also its entry point (``python -m tests.reliability.test_trainer_cursor_kill LOG TRAINER``).
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from personal_memory.plm.trainer.sidecar import Sidecar, UpdateOutcome
from personal_memory.plm.trainer.store import QueuedEvent, TrainerStore
from personal_memory.pms.domains import detect_domains
from personal_memory.pms.interaction_log import InteractionLog

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ROWS = 480
KILLS = 8
QUERY = "which school does my daughter go to"


class KeepEverything:
    """A trivial updater: the cursor test never trains."""

    def update(self, update_id: str, batch: list[QueuedEvent], replay: list[QueuedEvent]) -> UpdateOutcome:
        return UpdateOutcome(kept=True, reason="kept without training")


def _fill(log: InteractionLog) -> None:
    """Remembers (one event each), recalls (domain counts) and feedback (multipliers), interleaved."""
    for n in range(ROWS):
        if n % 3 == 0:
            log.append(NOW, "remember", {"content": f"fact {n}"}, {"id": f"m-{n}", "status": "created"}, [f"m-{n}"])
        elif n % 3 == 1:
            log.append(NOW, "recall", {"query": QUERY}, {"memories": []}, [])
        else:
            log.append(NOW, "feedback", {"target_id": f"m-{n - 2}", "rating": "good"}, {}, [])


def _cursor(trainer_path: Path) -> int:
    if not trainer_path.exists():
        return 0
    with sqlite3.connect(trainer_path, timeout=10) as conn:
        try:
            row = conn.execute("SELECT seq FROM cursor WHERE name = 'log'").fetchone()
        except sqlite3.OperationalError:  # the consumer has not created its tables yet
            return 0
    return int(row[0]) if row else 0


def _consume(log_path: Path, trainer_path: Path, kill_past: int | None) -> bool:
    """Run the consumer; SIGKILL it as soon as its cursor passes ``kill_past`` (None: let it finish).

    Returns True when it finished by itself. Killing on the cursor (not on a timer) makes every kill
    land mid-work whatever the machine's speed, at whatever point of a transaction it happens to be.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.test_trainer_cursor_kill", str(log_path), str(trainer_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(60, proc.kill)  # a consumer that never finishes must not hang the test
    guard.start()
    try:
        while kill_past is not None and proc.poll() is None and _cursor(trainer_path) <= kill_past:
            time.sleep(0.001)
        if kill_past is not None:
            proc.kill()
        out, err = proc.communicate(timeout=60)
    finally:
        guard.cancel()
        proc.kill()
        proc.wait()
    if proc.returncode == -9:
        return False
    assert proc.returncode == 0 and out.strip().endswith("done"), err
    return True


def test_a_consumer_killed_at_random_points_neither_loses_nor_double_counts_an_event(tmp_path: Path) -> None:
    log_path, trainer_path = tmp_path / "interactions.sqlite", tmp_path / "trainer.sqlite"
    log = InteractionLog(log_path)
    _fill(log)
    log.close()
    targets = sorted(random.Random(20261125).sample(range(1, ROWS - 20), KILLS))
    kills = sum(not _consume(log_path, trainer_path, target) for target in targets)
    assert kills >= KILLS - 1  # at most one run may finish its last batch before the kill lands
    assert _consume(log_path, trainer_path, None)

    conn = sqlite3.connect(trainer_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        sources = Counter(r[0] for r in conn.execute("SELECT source_seq FROM events"))
        domains = dict(conn.execute("SELECT domain, count FROM domains").fetchall())
        ratings = dict(conn.execute("SELECT target, ratings FROM feedback").fetchall())
        cursor = conn.execute("SELECT seq FROM cursor WHERE name = 'log'").fetchone()[0]
    finally:
        conn.close()
    remembered = range(1, ROWS + 1, 3)  # seqs start at 1: every third row, from the first, is a remember
    assert sources == Counter(remembered)
    assert domains == dict.fromkeys(detect_domains(QUERY), ROWS // 3)
    assert ratings == {f"m-{n}": 1 for n in range(0, ROWS, 3)}
    assert cursor == ROWS


def main(log_path: Path, trainer_path: Path) -> None:
    sidecar = Sidecar(InteractionLog(log_path), TrainerStore(trainer_path), KeepEverything(), clock=lambda: NOW)
    print("ready", flush=True)
    sidecar.consume(batch=7)
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
