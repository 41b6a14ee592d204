"""What context injection produces: a query's analysis and the personal context, grouped into sections.

Pydantic models, because they cross the MCP, CLI and JSON boundaries as they are.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from personal_memory.pms.schema import MemoryType


class Intent(StrEnum):
    TECHNICAL_GUIDANCE = "technical_guidance"
    RECOMMENDATION = "recommendation"
    PERSONAL_FACT = "personal_fact"
    PLANNING = "planning"
    CASUAL = "casual"


class QueryInsight(BaseModel):
    """A query's domains and intent (implements ``plm.interfaces.QueryAnalysis``)."""

    domains: list[str] = Field(description="Knowledge domains the query touches, strongest first")
    intent: Intent
    confidence: float = Field(ge=0.0, le=1.0, description="How sure the analyzer is of the intent")


SECTION_OF_TYPE: dict[MemoryType, str] = {
    MemoryType.PREFERENCE: "preferences",
    MemoryType.FACT: "facts",
    MemoryType.SKILL: "skills",
    MemoryType.BELIEF: "beliefs",
    MemoryType.CONTEXT: "context",
    MemoryType.EVENT: "recent_events",
}
SECTION_ORDER = ("preferences", "facts", "skills", "beliefs", "context", "recent_events")
SECTION_TITLES = {
    "preferences": "Preferences",
    "facts": "Facts",
    "skills": "Skills",
    "beliefs": "Beliefs",
    "context": "Context",
    "recent_events": "Recent events",
}


class ContextItem(BaseModel):
    """One line of context and the memories it was generated from."""

    text: str
    memory_ids: list[str] = Field(description="The memories this line was generated from")
    section: str
    confidence: float
    rank: int = Field(ge=1, description="1 for the line that matters most; the token budget drops the highest")


class PersonalContext(BaseModel):
    """The context for one query (or the whole profile when ``query`` is None), before formatting."""

    query: str | None = None
    analysis: QueryInsight | None = None
    generated_at: datetime
    items: list[ContextItem]

    @property
    def is_empty(self) -> bool:
        return not self.items

    def sections(self) -> dict[str, list[ContextItem]]:
        """Non-empty sections in ``SECTION_ORDER``, each in rank order."""
        grouped: dict[str, list[ContextItem]] = {}
        for name in SECTION_ORDER:
            found = sorted((i for i in self.items if i.section == name), key=lambda i: i.rank)
            if found:
                grouped[name] = found
        return grouped

    def memory_ids(self) -> list[str]:
        return list(dict.fromkeys(i for item in sorted(self.items, key=lambda i: i.rank) for i in item.memory_ids))

    def without_lowest(self) -> PersonalContext:
        """The same context less its lowest-ranked line."""
        worst = max(self.items, key=lambda i: i.rank)
        return self.model_copy(update={"items": [i for i in self.items if i is not worst]})
