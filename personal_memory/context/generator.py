"""The deterministic template generator: one context line per memory, traceable to its id.

It implements ``plm.interfaces.ContextGenerator``; a trained PLM may later write lines that merge
several memories, behind the same interface. Lines keep the user's own words (first person means
the user), because rewriting them by rule would sooner or later change what they say. The template
adds what an LLM cannot see otherwise: when an event was noted, and which memories are only inferred
or uncertain. Overlong memories are cut at a word boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from personal_memory.context.models import SECTION_OF_TYPE
from personal_memory.pms.schema import MemoryEntry, MemoryType, TruthCategory

MAX_LINE_CHARS = 300
UNSURE_BELOW = 0.5


def shorten(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """``text`` on one line, cut at the last word boundary before ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def line_for(entry: MemoryEntry) -> str:
    notes = [f"noted {entry.created_at.date().isoformat()}"] if entry.memory_type is MemoryType.EVENT else []
    if entry.truth_category is TruthCategory.INFERRED:
        notes.append("inferred")
    if entry.confidence.overall < UNSURE_BELOW:
        notes.append("unsure")
    text = shorten(entry.content)
    return f"{text} ({', '.join(notes)})" if notes else text


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    memory_ids: list[str]
    section: str


class TemplateGenerator:
    """Memories in, lines out, in the same order (the builder ranks lines by their position)."""

    def generate(self, query: str | None, memories: Sequence[MemoryEntry]) -> list[Line]:
        return [Line(line_for(e), [str(e.id)], SECTION_OF_TYPE[e.memory_type]) for e in memories]
