"""The memory schema of SEED.md (``MemoryEntry``) as pydantic models. No I/O here."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4, uuid5

from pydantic import BaseModel, ConfigDict, Field, field_validator

from personal_memory.pms.errors import InvalidMemoryError

MAX_CONTENT_BYTES = 32 * 1024


class Tier(StrEnum):
    SHORT_TERM = "short_term"
    LONG_TERM = "long_term"
    PERSISTENT = "persistent"


TIER_ORDER = (Tier.PERSISTENT, Tier.LONG_TERM, Tier.SHORT_TERM)  # where lookups search, most trusted first


class TruthCategory(StrEnum):
    ABSOLUTE = "absolute"  # empirically verifiable: dates, measurements, spellings
    CONTEXTUAL = "contextual"  # true in specific contexts
    OPINION = "opinion"  # personal beliefs
    INFERRED = "inferred"  # derived from patterns


class MemoryType(StrEnum):
    FACT = "fact"
    BELIEF = "belief"
    PREFERENCE = "preference"
    SKILL = "skill"
    EVENT = "event"
    CONTEXT = "context"


class MemoryStatus(StrEnum):
    """Lifecycle state: only ACTIVE memories come back from recall."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Confidence(BaseModel):
    """SEED.md's five-part confidence. ``overall`` is derived from the other four (see ``pms.confidence``)."""

    model_config = ConfigDict(validate_assignment=True)

    overall: float = Field(0.5, ge=0.0, le=1.0)
    source_reliability: float = Field(0.7, ge=0.0, le=1.0, description="How reliable the source is")
    recency: float = Field(1.0, ge=0.0, le=1.0, description="Time-decay factor, 1.0 when fresh")
    corroboration_count: int = Field(0, ge=0, description="Times confirmed")
    contradiction_count: int = Field(0, ge=0, description="Times contradicted")


_THREAD_NAMESPACE = UUID("5c1d3a52-6f0e-4b8e-9a51-7d2f0c4b1e93")


class ConversationRef(BaseModel):
    """Where a memory sits in a conversation: recall reads its neighbours and its session through this.

    A threaded memory's id is derived from (thread, session, turn), so the ids of its neighbours are known
    without any lookup; see ``thread_id``.
    """

    model_config = ConfigDict(frozen=True)

    thread: str = Field(description="The conversation: an export's conversation id, or an MCP client session")
    session: int = Field(0, ge=0, description="Session (sitting) within the thread, in order")
    turn: int = Field(ge=0, description="Position within the session, from 0")
    speaker: str | None = Field(None, description="Who said it, as the source names them")
    session_date: str | None = Field(None, description="When the session took place, as the source writes it")

    def at(self, turn: int) -> UUID:
        """The id a memory at ``turn`` of this session has (whether or not one exists)."""
        return thread_id(self.thread, self.session, turn)


def thread_id(thread: str, session: int, turn: int) -> UUID:
    return uuid5(_THREAD_NAMESPACE, f"{thread}\x1f{session}\x1f{turn}")


class MemorySource(BaseModel):
    """Provenance: where a memory came from."""

    kind: str = Field("conversation", description="Source kind, e.g. conversation, notes, git, chatgpt, photos")
    reference: str | None = Field(None, description="File path + line, commit sha, message id, MCP client...")
    timestamp: datetime = Field(default_factory=utcnow)
    reliability: float = Field(0.7, ge=0.0, le=1.0)
    conversation: ConversationRef | None = Field(None, description="Its place in a conversation thread, if any")


class EventKind(StrEnum):
    """What happened to a memory; ``pmem why`` prints these in order."""

    CREATED = "created"
    CORROBORATED = "corroborated"
    CONTRADICTED = "contradicted"
    VALIDATED = "validated"
    SUPERSEDED = "superseded"
    PROMOTED = "promoted"
    EXPIRED = "expired"


class MemoryEvent(BaseModel):
    """One step of a memory's life: a tier move records from, to, the rule and the time."""

    kind: EventKind
    at: datetime
    from_tier: Tier | None = None
    to_tier: Tier | None = None
    rule: str | None = None
    detail: str | None = None
    other: UUID | None = Field(None, description="The memory that caused it (corroborating, contradicting, newer)")


class MemoryEntry(BaseModel):
    """One memory, as SEED.md defines it, plus its lifecycle status."""

    id: UUID = Field(default_factory=uuid4)
    content: str
    summary: str | None = None
    content_hash: str = ""

    tier: Tier = Tier.SHORT_TERM
    truth_category: TruthCategory = TruthCategory.CONTEXTUAL
    memory_type: MemoryType = MemoryType.FACT

    confidence: Confidence = Field(default_factory=Confidence)

    embedding: list[float] = Field(default_factory=list, repr=False)
    tags: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)

    related_memories: list[UUID] = Field(default_factory=list)
    contradicts: list[UUID] = Field(default_factory=list)
    supports: list[UUID] = Field(default_factory=list)
    supersedes: UUID | None = None

    sources: list[MemorySource] = Field(default_factory=list)

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_accessed: datetime = Field(default_factory=utcnow)
    access_count: int = Field(0, ge=0)

    # Lifecycle (beyond SEED.md's schema): why recall may skip a memory, and when short-term ends.
    status: MemoryStatus = MemoryStatus.ACTIVE
    superseded_by: UUID | None = None
    validated: bool = False
    expires_at: datetime | None = None
    tag_added_at: dict[str, datetime] = Field(default_factory=dict, description="When each tag was first given")
    history: list[MemoryEvent] = Field(default_factory=list)

    @field_validator("content")
    @classmethod
    def _content_is_storable(cls, value: str) -> str:
        return validate_content(value)

    def model_post_init(self, __context: object) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self.content)

    def without_embedding(self) -> MemoryEntry:
        return self.model_copy(update={"embedding": []})


def validate_content(value: str, max_bytes: int = MAX_CONTENT_BYTES) -> str:
    """Reject what cannot be stored faithfully: empty text, lone surrogates, NULs, oversized content."""
    if not isinstance(value, str):
        raise InvalidMemoryError("Memory content must be text.")
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidMemoryError(
            "Memory content is not valid Unicode (it contains a lone surrogate); send UTF-8 text."
        ) from exc
    if "\x00" in value:
        raise InvalidMemoryError("Memory content contains a NUL character; remove it and try again.")
    if not value.strip():
        raise InvalidMemoryError("Memory content is empty; say what should be remembered.")
    if len(encoded) > max_bytes:
        raise InvalidMemoryError(
            f"Memory content is {len(encoded)} bytes, over the {max_bytes}-byte limit; "
            "split it into smaller, self-contained memories."
        )
    return value


def normalise_for_hash(text: str) -> str:
    """Unicode-normalised, case-folded, whitespace-collapsed text: the form duplicates are detected on."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()


def parse_memory_id(value: str) -> UUID:
    try:
        return UUID(value.strip())
    except (ValueError, AttributeError) as exc:
        raise InvalidMemoryError(
            f"{value!r} is not a memory id; ids are UUIDs as returned by remember or recall."
        ) from exc
