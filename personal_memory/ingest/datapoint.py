"""The universal DataPoint every adapter yields, and the reliability given to each source kind."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from personal_memory.pms.schema import ConversationRef, MemoryType, TruthCategory

# How far a memory from each kind of source is trusted before anything corroborates it. Things the user
# wrote about themselves rank above what is inferred from their activity only where the record is exact.
DEFAULT_RELIABILITY: Mapping[str, float] = {
    "notes": 0.85,
    "git": 0.9,
    "photos": 0.9,
    "chatgpt": 0.75,
    "claude": 0.75,
    "twitter": 0.65,
    "mastodon": 0.65,
}
FALLBACK_RELIABILITY = 0.6


def reliability_for(kind: str, overrides: Mapping[str, float] | None = None) -> float:
    """The reliability of a source kind: an override (from configuration or a CLI flag) wins over the default."""
    if overrides and kind in overrides:
        return overrides[kind]
    return DEFAULT_RELIABILITY.get(kind, FALLBACK_RELIABILITY)


class Statement(BaseModel):
    """A statement about the user an adapter derived from structured data (a commit's languages, EXIF)."""

    model_config = ConfigDict(frozen=True)

    text: str
    memory_type: MemoryType | None = None
    truth_category: TruthCategory | None = None


class DataPoint(BaseModel):
    """One unit of a source: a note chunk, a commit, a chat turn, a post, a photo."""

    model_config = ConfigDict(frozen=True)

    source_kind: str = Field(description="Adapter name: notes, git, chatgpt, claude, twitter, mastodon, photos...")
    reference: str = Field(description="Where it is: file path + line, commit sha, message id, post URL")
    author: str | None = Field(None, description="Who wrote it: 'user' for the owner of the memory, else a name")
    timestamp: datetime | None = None
    text: str = Field("", description="Free text written by the user; extraction keeps what it says about them")
    statements: list[Statement] = Field(default_factory=list, description="Already known to be about the user")
    tags: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    conversation: ConversationRef | None = Field(None, description="Its place in a conversation thread, if any")

    @property
    def content_hash(self) -> str:
        """Changes whenever what the datapoint says changes, so an edited note is ingested again."""
        digest = hashlib.sha256(self.text.encode("utf-8", "surrogatepass"))
        for statement in self.statements:
            digest.update(b"\x1f" + statement.text.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
