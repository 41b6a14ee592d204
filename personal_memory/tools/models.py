"""Structured results the tools return (pydantic: the MCP boundary)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, Field

from personal_memory.context.models import QueryInsight
from personal_memory.pms.schema import Confidence, MemoryEntry, MemoryType, Tier, TruthCategory


class MemoryView(BaseModel):
    id: str
    content: str
    tier: Tier
    memory_type: MemoryType
    truth_category: TruthCategory
    confidence: float = Field(description="Overall confidence, 0..1")
    confidence_detail: Confidence
    tags: list[str]
    domains: list[str]
    entities: list[str]
    supersedes: str | None = None
    created_at: datetime
    updated_at: datetime
    last_accessed: datetime
    access_count: int

    @classmethod
    def of(cls, entry: MemoryEntry, **extra: Any) -> Self:
        """The view of ``entry``; ``extra`` fills a subclass's own fields."""
        return cls(
            id=str(entry.id),
            content=entry.content,
            tier=entry.tier,
            memory_type=entry.memory_type,
            truth_category=entry.truth_category,
            confidence=round(entry.confidence.overall, 4),
            confidence_detail=entry.confidence,
            tags=entry.tags,
            domains=entry.domains,
            entities=entry.entities,
            supersedes=str(entry.supersedes) if entry.supersedes else None,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            last_accessed=entry.last_accessed,
            access_count=entry.access_count,
            **extra,
        )


class RememberResult(BaseModel):
    id: str
    tier: Tier
    status: Literal["created", "corroborated"] = Field(
        description="'corroborated' when the same memory was already known: it was confirmed, not copied"
    )
    memory_type: MemoryType
    truth_category: TruthCategory
    confidence: float
    corroboration_count: int
    corroborates: list[str] = Field(
        default_factory=list, description="Known memories that say the same in other words (now linked as support)"
    )
    contradicts: list[str] = Field(
        default_factory=list,
        description="Known memories this one contradicts; if one is now wrong, `correct` it (or `forget` it)",
    )


class RecalledMemory(MemoryView):
    score: float = Field(description="Ranking score: relevance, then confidence and recency")


class RecallResult(BaseModel):
    query: str
    count: int
    memories: list[RecalledMemory]


class CorrectResult(BaseModel):
    id: str = Field(description="Id of the new, corrected memory")
    supersedes: str = Field(description="Id of the memory it replaces; that one no longer comes back from recall")
    tier: Tier
    content: str


class ForgetResult(BaseModel):
    id: str
    forgotten: bool
    tier: Tier
    content: str


class ProfileResult(BaseModel):
    format: str
    profile: str = Field(description="The rendered personal context, ready to put in a prompt")
    memory_ids: list[str] = Field(description="The memories the context was generated from, most relevant first")
    tokens: int = Field(description="Size of the rendered context in tokens (MiniLM WordPiece count)")
    analysis: QueryInsight | None = Field(None, description="The query's detected domains and intent")


class FeedbackResult(BaseModel):
    target_id: str
    rating: str
    weight_multiplier: float = Field(description="Applied to what the personal model learns from the target")
    new_memory_id: str | None = Field(None, description="With a correction of a memory: the corrected memory's id")
