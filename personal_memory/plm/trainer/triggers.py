"""When an update is due: 10+ queued events, or 24+ hours since the last update with one queued, or asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class TriggerPolicy:
    min_events: int = 10
    max_age: timedelta = timedelta(hours=24)


def due(
    policy: TriggerPolicy, pending: int, since: datetime | None, now: datetime, requested: bool
) -> str | None:
    """The trigger that fires now, or None. ``since``: the last update, else when the trainer first queued."""
    if requested:
        return "requested"
    if pending >= policy.min_events:
        return f"{pending} events queued (threshold {policy.min_events})"
    if pending and since is not None and now - since >= policy.max_age:
        return f"{(now - since).total_seconds() / 3600:.1f} h since the last update (threshold {policy.max_age})"
    return None
