"""The trainer's extraction phase, durable cursor, feedback weights and triggers (no model needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client

from personal_memory.config import load_settings
from personal_memory.plm.trainer.extraction import extract
from personal_memory.plm.trainer.sidecar import Sidecar, UpdateOutcome
from personal_memory.plm.trainer.store import QueuedEvent, TrainerStore
from personal_memory.plm.trainer.triggers import TriggerPolicy, due
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.server.app import build_server

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _log_remember(log: InteractionLog, text: str, memory_id: str, status: str = "created") -> int:
    result = {"id": memory_id, "status": status, "memory_type": "preference"}
    return log.append(NOW, "remember", {"content": text}, result, [memory_id])


def test_only_new_memories_corrections_and_teacher_answers_become_events(tmp_path: Path) -> None:
    log = InteractionLog(tmp_path / "log.sqlite")
    _log_remember(log, "I prefer tabs", "m1")
    _log_remember(log, "I prefer tabs", "m1", status="corroborated")
    log.append(NOW, "correct", {"memory_id": "m1", "correction": "I prefer spaces"}, {"id": "m2"}, ["m2"])
    log.append(NOW, "recall", {"query": "python indentation"}, {}, [])
    log.append(NOW, "ask", {"query": "best pizza in Lyon?"}, {"response": "Try Pizzeria X"}, [], teacher_model="llama3")
    log.append(NOW, "remember", {"content": "x"}, {}, [], error="boom")
    extracted = [extract(i) for i in log.read()]
    kinds = [[e.kind for e in x.events] for x in extracted]
    assert kinds == [["memory"], [], ["correction"], [], ["teacher"], []]
    assert extracted[2].events[0].weight == 3.0 and extracted[2].events[0].memory_id == "m2"
    assert extracted[3].domains == ["programming", "python"]
    assert extracted[4].events[0].teacher_model == "llama3" and extracted[4].domains == ["food"]


def test_feedback_multiplies_the_weight_of_what_it_rates(tmp_path: Path) -> None:
    log = InteractionLog(tmp_path / "log.sqlite")
    store = TrainerStore(tmp_path / "trainer.sqlite")
    _log_remember(log, "I like jazz", "m1")
    _log_remember(log, "I like opera", "m2")
    _log_remember(log, "I like techno", "m3")
    log.append(NOW, "feedback", {"target_id": "m1", "rating": "good"}, {}, [])
    log.append(NOW, "feedback", {"target_id": "m2", "rating": "bad"}, {}, [])
    log.append(NOW, "feedback", {"target_id": "m3", "rating": "correction", "correction": "I like house"},
               {"new_memory_id": "m4"}, [])  # fmt: skip
    for interaction in log.read():
        store.apply(interaction.seq, extract(interaction), NOW)
    weights = {q.event.text: q.weight for q in store.pending()}
    assert weights == {"I like jazz": 1.5, "I like opera": 0.5, "I like techno": 3.0, "I like house": 3.0}


def test_the_cursor_neither_loses_nor_double_counts_across_restarts(tmp_path: Path) -> None:
    log = InteractionLog(tmp_path / "log.sqlite")
    for i in range(5):
        _log_remember(log, f"fact {i}", f"m{i}")
    store = TrainerStore(tmp_path / "trainer.sqlite")
    first = list(log.read(limit=3))
    for interaction in first:
        store.apply(interaction.seq, extract(interaction), NOW)
    assert not store.apply(first[-1].seq, extract(first[-1]), NOW)  # a replay is refused
    store.close()

    reopened = TrainerStore(tmp_path / "trainer.sqlite")
    for interaction in log.read(after_seq=reopened.cursor()):
        reopened.apply(interaction.seq, extract(interaction), NOW)
    assert sorted(q.event.text for q in reopened.pending()) == [f"fact {i}" for i in range(5)]


@pytest.mark.parametrize(
    ("pending", "age_hours", "requested", "fires"),
    [(10, 0, False, True), (9, 0, False, False), (1, 24, False, True), (1, 23.9, False, False), (0, 48, False, False),
     (0, 0, True, True)],
)  # fmt: skip
def test_updates_trigger_at_ten_events_a_day_or_on_request(
    pending: int, age_hours: float, requested: bool, fires: bool
) -> None:
    since = NOW - timedelta(hours=age_hours)
    assert (due(TriggerPolicy(), pending, since, NOW, requested) is not None) == fires


class RecordingUpdater:
    """Keeps every batch it is given (a fake: these tests are about queueing, not training)."""

    def __init__(self) -> None:
        self.batches: list[list[QueuedEvent]] = []

    def update(self, update_id: str, batch: list[QueuedEvent], replay: list[QueuedEvent]) -> UpdateOutcome:
        self.batches.append(batch)
        return UpdateOutcome(kept=True, reason="test", adapter_id=update_id)


def test_the_sidecar_updates_once_per_trigger_and_marks_events_used(tmp_path: Path) -> None:
    log = InteractionLog(tmp_path / "log.sqlite")
    clock = [NOW]
    updater = RecordingUpdater()
    sidecar = Sidecar(log, TrainerStore(tmp_path / "t.sqlite"), updater, clock=lambda: clock[0])
    for i in range(9):
        _log_remember(log, f"fact {i}", f"m{i}")
    assert sidecar.step() is None
    _log_remember(log, "fact 9", "m9")
    record = sidecar.step()
    assert record is not None and record.status == "kept" and record.events == 10
    assert sidecar.step() is None and len(updater.batches) == 1
    _log_remember(log, "fact 10", "m10")
    assert sidecar.step() is None
    clock[0] = NOW + timedelta(hours=25)
    assert sidecar.step() is not None and len(updater.batches[1]) == 1


@pytest.mark.anyio
async def test_feedback_tool_validates_targets_and_corrects_memories() -> None:
    settings = load_settings(embedder="hash")
    async with Client(build_server(settings, warm_up=False)) as client:
        stored = await client.call_tool("remember", {"content": "I live in Lyon"})
        memory_id = stored.structured_content["id"]  # type: ignore[index]
        good = await client.call_tool("feedback", {"target_id": memory_id, "rating": "good"})
        assert good.structured_content["weight_multiplier"] == 1.5  # type: ignore[index]
        missing = await client.call_tool("feedback", {"target_id": memory_id, "rating": "correction"})
        assert missing.is_error
        fixed = await client.call_tool(
            "feedback", {"target_id": memory_id, "rating": "correction", "correction": "I live in Berlin"}
        )
        new_id = fixed.structured_content["new_memory_id"]  # type: ignore[index]
        found = await client.call_tool("recall", {"query": "where do I live"})
        assert [m["id"] for m in found.structured_content["memories"]] == [new_id]  # type: ignore[index]
        assert (await client.call_tool("feedback", {"target_id": "interaction:1", "rating": "bad"})).is_error is False
        assert (await client.call_tool("feedback", {"target_id": "interaction:999", "rating": "bad"})).is_error
    log = InteractionLog(settings.paths.interactions)
    store = TrainerStore(settings.paths.trainer)
    for interaction in log.read():
        store.apply(interaction.seq, extract(interaction), NOW)
    weights = {q.event.text: q.weight for q in store.pending()}
    # good x1.5, correction x3.0, and 'bad' x0.5 on interaction 1 (the remember call that stored it)
    assert weights["I live in Lyon"] == pytest.approx(1.5 * 3.0 * 0.5) and weights["I live in Berlin"] == 3.0
