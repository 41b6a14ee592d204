"""The sidecar loop: consume the interaction log, queue what can be learned, update the PLM when due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from personal_memory.plm.trainer.extraction import extract
from personal_memory.plm.trainer.store import QueuedEvent, TrainerStore, UpdateRecord
from personal_memory.plm.trainer.triggers import TriggerPolicy, due
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.schema import utcnow

logger = logging.getLogger(__name__)

REPLAY_SHARE = 0.5  # replay up to half as many earlier events as new ones, so old knowledge is rehearsed


@dataclass(frozen=True, slots=True)
class UpdateOutcome:
    kept: bool
    reason: str
    adapter_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


class Updater(Protocol):
    """Trains the PLM on a batch; keeps the result only if it is not worse on held-out data."""

    def update(self, update_id: str, batch: list[QueuedEvent], replay: list[QueuedEvent]) -> UpdateOutcome: ...


class Sidecar:
    def __init__(
        self,
        log: InteractionLog,
        store: TrainerStore,
        updater: Updater,
        policy: TriggerPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        after_update: Callable[[UpdateRecord], None] | None = None,
    ) -> None:
        """``after_update`` runs after each finished update (the optional pruning pass)."""
        self.after_update = after_update
        self.log = log
        self.store = store
        self.updater = updater
        self.policy = policy or TriggerPolicy()
        self.clock = clock

    def consume(self, batch: int = 500) -> int:
        """Extract every interaction logged since the cursor; returns how many were consumed."""
        consumed = 0
        while True:
            interactions = list(self.log.read(after_seq=self.store.cursor(), limit=batch))
            if not interactions:
                return consumed
            for interaction in interactions:
                if self.store.apply(interaction.seq, extract(interaction), self.clock()):
                    consumed += 1

    def due(self) -> str | None:
        since = self.store.last_finished_update() or self.store.oldest_pending()
        return due(self.policy, self.store.pending_count(), since, self.clock(), self.store.update_requested())

    def run_update(self, trigger: str) -> UpdateRecord:
        batch = self.store.pending()
        replay = self.store.sample_used(int(len(batch) * REPLAY_SHARE))
        update_id = f"u{self.clock():%Y%m%dT%H%M%S%f}"
        self.store.start_update(update_id, trigger, len(batch), self.clock())
        logger.info("Update %s: %d new events, %d replayed (%s)", update_id, len(batch), len(replay), trigger)
        if batch:
            outcome = self.updater.update(update_id, batch, replay)
        else:
            outcome = UpdateOutcome(kept=False, reason="nothing new to learn")
        status = "kept" if outcome.kept else "rolled_back"
        self.store.finish_update(
            update_id, [q.id for q in batch], status, outcome.reason, outcome.adapter_id, outcome.metrics, self.clock()
        )
        record = self.store.updates(limit=1)[0]
        if self.after_update is not None:
            self.after_update(record)
        return record

    def step(self) -> UpdateRecord | None:
        """One pass: consume, then update if a trigger fires."""
        self.consume()
        trigger = self.due()
        return self.run_update(trigger) if trigger else None

    def run_forever(self, poll_seconds: float, stop: threading.Event) -> None:
        interrupted = self.store.abandon_running(self.clock())
        if interrupted:
            logger.warning("%d update(s) were interrupted by a stop; their events stay queued", interrupted)
        while not stop.is_set():
            record = self.step()
            if record is not None:
                logger.warning("Update %s %s: %s %s", record.id, record.status, record.reason, record.metrics)
            stop.wait(poll_seconds)
