"""Durability: whatever a writer acknowledged survives SIGKILL at any instant, once, in intact files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.reliability.crash_harness import Acks, assert_nothing_lost, run_and_kill


def _kill_repeatedly(home: Path, kills: int, seed: int) -> Acks:
    rng = random.Random(seed)
    acks = Acks()
    for _ in range(kills):
        run_and_kill(home, acks, rng, max_delay=0.6)
    return acks


def test_acknowledged_writes_survive_repeated_sigkill(isolated_home: Path) -> None:
    acks = _kill_repeatedly(isolated_home, kills=8, seed=10)
    assert {kind for kind, _ in acks.done.values()} == {"remember", "long", "correct"}
    assert_nothing_lost(isolated_home, acks)


@pytest.mark.slow
def test_acknowledged_writes_survive_fifty_sigkills(isolated_home: Path) -> None:
    acks = _kill_repeatedly(isolated_home, kills=50, seed=50)
    assert_nothing_lost(isolated_home, acks)
