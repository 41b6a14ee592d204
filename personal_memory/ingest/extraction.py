"""DataPoints -> candidate memories: atomic statements the user made about themselves, with provenance.

The default extractor is rule-based and offline: it cleans the text (code, links, markup), splits it into
sentences and then clauses (``I live in Lyon and I work at Acme`` is two), and keeps the first-person
declaratives (``I ...``, ``My ...``, ``As a nurse, I ...``) that are not questions, requests to an assistant
or talk about the task at hand. Classification (type, truth category, domains) is left to the memory
service's classifier unless the adapter already knows it (``DataPoint.statements``).
"""

from __future__ import annotations

import re
from typing import Protocol

from pydantic import BaseModel

from personal_memory.ingest.datapoint import DataPoint, Statement
from personal_memory.pms.schema import MemorySource, MemoryType, TruthCategory, content_hash
from personal_memory.pms.service import NewMemory

MIN_WORDS, MAX_WORDS = 3, 60

_CODE_BLOCK = re.compile(r"```.*?(```|$)|~~~.*?(~~~|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")
_LINE_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d+[.)]\s+|- \[[ xX]\]\s+)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?(?:[A-Z0-9]|i\b))")
_CLAUSE = re.compile(r"\s*;\s*|,?\s+(?:and|but|so|while)\s+(?=(?:I|I'm|I've|I'd|I'll|my|My)\b)")
_FILLER = re.compile(
    r"^(?:(?:so|well|also|actually|btw|by the way|honestly|personally|fyi|oh|ok|okay|hi|hey|hello|yes|yeah|no|"
    r"and|but|anyway|basically|tbh|fwiw|in fact|for context|for the record|thanks|thank you|"
    r"i agree|i see|i guess|i mean|i know|i think so)\b[,:!]?\s*)+",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(
    r"^(?:as an? [^,]{1,40},\s*)?(?:i|i'm|i’m|i've|i’ve|i'd|i’d|i'll|i’ll|im|my)\b", re.IGNORECASE
)
_NOT_ABOUT_ME = re.compile(
    r"\b(?:you|your|yours|you're|you’re)\b"  # addressed to someone: requests, replies
    r"|^i(?:'d|’d| would) like |^i(?: was| am|'m|’m) (?:wondering|curious)\b"
    r"|^i (?:want|need) (?!to (?:learn|become|move|live|visit|travel|try|get|start|stop|be)\b)"
    r"|^i \w+(?: \w+)? (?:it|this|that|them)\W*$"  # too vague alone: 'I love it.'
    r"|\b(?:following|below|above|attached|this code|this error|this function|this script|this file)\b"
    r"|\b(?:error|exception|traceback|stack trace|doesn't work|does not work|not working)\b"
    r"|^i (?:have|got|get|am getting|'m getting|keep getting) (?:a|an|this|the|some) (?:question|issue|problem|bug)\b"
    r"|[{}<>=]|\(\)|=>|::",
    re.IGNORECASE,
)


class Extractor(Protocol):
    """Finds the statements about the user in a datapoint's free text."""

    def statements(self, text: str) -> list[Statement]: ...


def clean(text: str) -> str:
    """The prose of ``text``: no code, links, URLs, leading @mentions, hashtag signs or Markdown markup."""
    text = _CODE_BLOCK.sub("\n", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    lines = (_LINE_MARKUP.sub("", _LEADING_MENTIONS.sub("", line.strip())) for line in text.splitlines())
    text = "\n".join(_EMPHASIS.sub(r"\2", line) for line in lines)
    return re.sub(r"(?<!\w)#(?=\w)", "", text)


def split_statements(text: str) -> list[str]:
    """Atomic statements: lines, then sentences, then clauses that each start with their own subject."""
    out: list[str] = []
    for line in clean(text).splitlines():
        for sentence in _SENTENCE_END.split(line.strip()):
            out.extend(part.strip() for part in _CLAUSE.split(sentence) if part and part.strip())
    return out


def normalise(statement: str) -> str:
    """Filler dropped, ``i`` capitalised, whitespace collapsed, ending in a full stop."""
    text = " ".join(_FILLER.sub("", statement).split()).rstrip(",;:- ")
    text = re.sub(r"(?<![\w'’])i(?=\b|'|’)", "I", text)
    if text and text[-1].isalnum() or text.endswith((")", '"', "'")):
        text += "."
    return text[:1].upper() + text[1:]


def is_about_user(statement: str) -> bool:
    """A first-person declarative about the speaker, of a sensible length, not a question or a request."""
    words = statement.split()
    return (
        MIN_WORDS <= len(words) <= MAX_WORDS
        and not statement.rstrip().endswith(("?", ":"))
        and bool(_FIRST_PERSON.match(statement))
        and not _NOT_ABOUT_ME.search(statement)
    )


class RuleExtractor:
    """The offline default."""

    def statements(self, text: str) -> list[Statement]:
        kept = (normalise(s) for s in split_statements(text))
        return [Statement(text=s) for s in kept if is_about_user(s)]


class Candidate(BaseModel):
    """A memory to store, with where it came from; staged on disk between extraction and storing."""

    content: str
    memory_type: MemoryType | None = None
    truth_category: TruthCategory | None = None
    tags: list[str] = []
    entities: list[str] = []
    source: MemorySource

    def to_new_memory(self) -> NewMemory:
        return NewMemory(
            content=self.content,
            memory_type=self.memory_type,
            truth_category=self.truth_category,
            tags=list(self.tags),
            entities=list(self.entities),
            source_reliability=self.source.reliability,
            source=self.source,
        )


def candidates(point: DataPoint, extractor: Extractor, reliability: float) -> list[Candidate]:
    """The datapoint's own statements plus those extracted from its text, each once."""
    source = MemorySource(
        kind=point.source_kind, reference=point.reference, reliability=reliability, conversation=point.conversation
    )
    if point.timestamp is not None:
        source.timestamp = point.timestamp
    found: dict[str, Candidate] = {}
    for statement in [*point.statements, *(extractor.statements(point.text) if point.text else [])]:
        found.setdefault(
            content_hash(statement.text),
            Candidate(
                content=statement.text,
                memory_type=statement.memory_type,
                truth_category=statement.truth_category,
                tags=point.tags,
                entities=point.entities,
                source=source,
            ),
        )
    return list(found.values())
