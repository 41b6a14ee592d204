"""Access counting off recall's path: accesses are gathered in memory and written in the background.

Writing ``access_count``/``last_accessed`` on every recall cost a write transaction and an fsync per call
(about a third of a recall at 100k memories). Counts are statistics for ranking and promotion, so they are
written at most ``delay`` seconds later, in one transaction for all the recalls in between, and on close.
A process killed before that loses at most those seconds of counts, never a memory.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

logger = logging.getLogger(__name__)

WriteAccesses = Callable[[Counter[UUID], datetime], None]


class AccessRecorder:
    """Collects accesses and hands them to ``write`` (counts per id, time of the last) after ``delay`` seconds."""

    def __init__(self, write: WriteAccesses, delay: float) -> None:
        self._write = write
        self._delay = delay
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # held through a write: a flush (close) waits for one in flight
        self._pending: Counter[UUID] = Counter()
        self._last: datetime | None = None
        self._timer: threading.Timer | None = None

    def record(self, memory_ids: Iterable[UUID], now: datetime) -> None:
        with self._lock:
            self._pending.update(memory_ids)
            self._last = now
            immediate = self._delay <= 0
            if not immediate and self._timer is None:
                self._timer = threading.Timer(self._delay, self._flush_logged)
                self._timer.name = "pmem-access-counts"
                self._timer.daemon = True
                self._timer.start()
        if immediate:
            self.flush()

    def flush(self) -> None:
        """Write what is pending now, after any write in flight (``close`` and tests call this; the timer does
        otherwise)."""
        with self._writing:
            with self._lock:
                pending, last = self._pending, self._last
                self._pending, self._last = Counter(), None
                timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            if pending and last is not None:
                self._write(pending, last)

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:  # a background task's top-level handler: counts are statistics, the next flush goes on
            logger.exception("Could not write access counts")
