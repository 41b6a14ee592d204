"""A clock tests move by hand, injected into the service as ``clock=``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MovableClock:
    def __init__(self, start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
