"""Build the user's profile (grouped, ranked memories), optionally focused on a query."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from personal_memory.pms.schema import MemoryEntry, MemoryType
from personal_memory.pms.service import MemoryService, RecallQuery

SECTION_OF_TYPE: dict[MemoryType, str] = {
    MemoryType.PREFERENCE: "preferences",
    MemoryType.FACT: "facts",
    MemoryType.SKILL: "skills",
    MemoryType.BELIEF: "beliefs",
    MemoryType.CONTEXT: "context",
    MemoryType.EVENT: "recent_events",
}
SECTION_ORDER = ("preferences", "facts", "skills", "beliefs", "context", "recent_events")
# Without a query, SEED.md's PLM type weights order what matters most about a person.
TYPE_WEIGHT: dict[MemoryType, float] = {
    MemoryType.FACT: 1.0,
    MemoryType.PREFERENCE: 1.0,
    MemoryType.BELIEF: 0.85,
    MemoryType.SKILL: 0.7,
    MemoryType.CONTEXT: 0.7,
    MemoryType.EVENT: 0.4,
}


class ProfileItem(BaseModel):
    text: str
    memory_ids: list[str] = Field(description="The memories this line was generated from")
    memory_type: MemoryType
    confidence: float


class Profile(BaseModel):
    query: str | None = None
    generated_at: datetime
    sections: dict[str, list[ProfileItem]]

    @property
    def is_empty(self) -> bool:
        return not any(self.sections.values())

    def memory_ids(self) -> list[str]:
        return [i for items in self.sections.values() for item in items for i in item.memory_ids]


def _item(entry: MemoryEntry) -> ProfileItem:
    return ProfileItem(
        text=entry.content.strip(),
        memory_ids=[str(entry.id)],
        memory_type=entry.memory_type,
        confidence=round(entry.confidence.overall, 3),
    )


def build_profile(service: MemoryService, query: str | None = None, limit: int = 40) -> Profile:
    """Top memories grouped into sections: by relevance to ``query``, else by type weight and confidence."""
    if query and query.strip():
        entries = [hit.entry for hit in service.recall(RecallQuery(text=query, limit=limit))]
    else:
        ranked = sorted(
            service.iter_active(),
            key=lambda e: (TYPE_WEIGHT[e.memory_type] * e.confidence.overall, e.access_count, e.updated_at),
            reverse=True,
        )
        entries = ranked[:limit]
    sections: dict[str, list[ProfileItem]] = {name: [] for name in SECTION_ORDER}
    for entry in entries:
        sections[SECTION_OF_TYPE[entry.memory_type]].append(_item(entry))
    return Profile(query=query or None, generated_at=service.clock(), sections=sections)
