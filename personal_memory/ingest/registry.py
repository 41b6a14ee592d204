"""The ingester registry: built-in adapters and plugins are loaded the same way, as entry points.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."personal_memory.ingesters"]
    diary = "my_package.diary:INGESTER"

where ``INGESTER`` is an :class:`Ingester`. The built-ins below are entry points of that same group.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from personal_memory.ingest.datapoint import DataPoint

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "personal_memory.ingesters"
_ADAPTERS = "personal_memory.ingest.adapters"
BUILTINS: tuple[EntryPoint, ...] = tuple(
    EntryPoint(name=name, value=f"{_ADAPTERS}.{name}:INGESTER", group=ENTRY_POINT_GROUP)
    for name in ("notes", "git", "chatgpt", "claude", "twitter", "mastodon", "photos", "conversation")
)


@dataclass(frozen=True, slots=True)
class Ingester:
    """One source kind. ``files`` lists the units under PATH; each is read (and stored) all-or-nothing."""

    name: str
    summary: str
    files: Callable[[Path], Iterator[Path]]
    read: Callable[[Path], Iterator[DataPoint]]

    def iter_datapoints(self, path: Path) -> Iterator[DataPoint]:
        """Every datapoint under ``path``, streamed; raises ``BadInputError`` at the first bad file."""
        for file in self.files(path):
            yield from self.read(file)


def load_ingesters(only: Collection[str] | None = None, plugins: bool = True) -> dict[str, Ingester]:
    """Built-ins first, then installed plugins; a plugin that fails to load is logged and left out."""
    found: dict[str, Ingester] = {}
    candidates = [*BUILTINS, *(entry_points(group=ENTRY_POINT_GROUP) if plugins else ())]
    for point in candidates:
        if (only is not None and point.name not in only) or point.name in found:
            continue
        try:
            loaded = point.load()
        except (ImportError, AttributeError) as exc:
            logger.warning("Ingester plugin %r (%s) failed to load: %s", point.name, point.value, exc)
            continue
        if not isinstance(loaded, Ingester):
            logger.warning("Ingester plugin %r (%s) is not an Ingester; left out", point.name, point.value)
            continue
        found[point.name] = loaded
    return found
