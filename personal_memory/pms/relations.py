"""Corroboration and contradiction between two statements, offline and in microseconds.

A pair is judged from the cosine similarity of its embeddings plus what the words say:

1. Below ``topic`` similarity the statements are about different things: no relation.
2. Opposite polarity about the same thing (one negated, or "love" against "hate", the rest of the
   words largely shared) is a contradiction: "I like olives" / "I don't like olives".
3. Exclusive slots: both statements give a value for the same single-valued slot (where one lives,
   one's name or employer, what one prefers, "my favourite X is", "my X is") and the values differ:
   "I live in Lyon" / "I moved to Berlin", "I prefer tabs" / "I prefer spaces".
4. Different numbers in otherwise matching statements contradict: "I have 2 kids" / "I have 3 kids".
5. Otherwise, at or above ``duplicate`` similarity the new statement corroborates the old one.

Thresholds were tuned on the dev half of ``bench/data/pairs.txt``; ``bench/contradiction.py``
prints precision and recall on the other half.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from personal_memory.pms.schema import EventKind, MemoryEntry, MemoryEvent


class Relation(StrEnum):
    NONE = "none"
    CORROBORATES = "corroborates"
    CONTRADICTS = "contradicts"


@dataclass(frozen=True, slots=True)
class RelationThresholds:
    duplicate: float = 0.80  # cosine at or above which a compatible statement corroborates
    topic: float = 0.45  # cosine below which two statements are about different things
    slot_topic: float = 0.30  # a shared exclusive slot (residence, name...) is itself evidence of one subject
    substitution: float = 0.65  # cosine from which one swapped final value ("by bike" / "by car") contradicts


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# fmt: off
_NEGATIONS = frozenset({"not", "no", "never", "nothing", "neither", "nor", "without", "anymore", "longer", "stopped",
                        "quit", "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "won't", "can't", "cannot",
                        "haven't", "hasn't", "shouldn't", "wouldn't", "dont", "doesnt", "cant"})
_POSITIVE = frozenset({"like", "likes", "love", "loves", "enjoy", "enjoys", "adore", "adores", "fan", "great", "best",
                       "good", "favourite", "favorite", "prefer", "prefers", "useful", "underrated", "always"})
_NEGATIVE = frozenset({"hate", "hates", "dislike", "dislikes", "detest", "loathe", "avoid", "avoids", "worst", "bad",
                       "overrated", "useless", "terrible", "awful", "stand"})
_STOP = frozenset("""a an the i i'm i've me my we our us you your is am are was were be been being to of in on at for
    with and or but so it its this that these those do does did have has had very really just still also than
    then there here as by from about over into out up""".split())
_SKIP = _STOP | _NEGATIONS | _POSITIVE | _NEGATIVE  # not content: what a statement says about its content
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9", "ten": "10", "zero": "0", "no": "0"}

_VALUE = r"(?i:the |a |an )?(?P<v>[\w'.-]+(?: [A-Z][\w'.-]*)*)"
_CLAUSE = r"(?i:the |a |an )?(?P<v>[^.,;]+)"
_SLOTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("residence", r"(?i:\b(?:live|living|lives|based|moved|relocated|resides?|residing)(?: back)? "
         r"(?:in|to|at|near) )" + _VALUE),
        ("residence", r"(?i:\bmy home is (?:in|at) )" + _VALUE),
        ("employer", r"(?i:\b(?:work|working|works|employed) (?:at|for|by) )" + _VALUE),
        ("employer", r"(?i:\bjoined )" + _VALUE),
        ("occupation", r"(?i:\b(?:work|working|works) as (?:a |an )?)(?P<v>[\w -]+?)(?i:(?: at| for| in|$|[.,]))"),
        ("name", r"(?i:\bmy name is |\b(?:i am|i'm) called )" + _VALUE),
        ("age", r"(?i:\b(?:i am|i'm) )(?P<v>\d+)(?i:(?: years old)?)\b"),
        ("prefer", r"(?i:\bprefers? (?:to use |using |to )?)" + _VALUE),
        ("prefer", r"(?i:\b(?:use|using|choose|pick|go with) )" + _VALUE + r"(?i: (?:rather than|instead of|over))"),
        ("favourite:{k}", r"(?i:\bfavou?rite )(?P<k>\w+(?: \w+)?)(?i: is )" + _CLAUSE),
        ("favourite:{k}", _VALUE + r"(?i: is my favou?rite )(?P<k>\w+(?: \w+)?)"),
        ("my:{k}", r"(?i:\bmy )(?P<k>(?!(?i:favou?rite))\w+(?: \w+)?)(?i: (?:is|was) (?:called |named )?)" + _CLAUSE),
    )
)
# fmt: on


_PHRASES = ((re.compile(r"\b(?:can't|cannot|can not) stand\b"), "hate"), (re.compile(r"\bnot a fan of\b"), "dislike"))


def _words(text: str) -> list[str]:
    lowered = text.lower().replace("’", "'")
    for pattern, replacement in _PHRASES:
        lowered = pattern.sub(replacement, lowered)
    return _WORD.findall(lowered)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _stance(words: tuple[str, ...]) -> tuple[int, bool]:
    """The statement's sentiment sign (-1, 0, +1) and whether it is negated (odd number of negations)."""
    sentiment = sum(w in _POSITIVE for w in words) - sum(w in _NEGATIVE for w in words)
    negations = sum(w in _NEGATIONS or w.endswith("n't") for w in words)
    return (sentiment > 0) - (sentiment < 0), negations % 2 == 1


def _content(words: list[str] | tuple[str, ...]) -> frozenset[str]:
    return frozenset(_stem(_NUMBER_WORDS.get(w, w)) for w in words if w not in _SKIP)


def _numbers(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_NUMBER_WORDS.get(w, w) for w in words if w.isdigit() or w in _NUMBER_WORDS and w != "no")


def slots(text: str) -> dict[str, set[str]]:
    """The exclusive slots a statement fills, each with its value's content words."""
    out: dict[str, set[str]] = {}
    for name, pattern in _SLOTS:
        for match in pattern.finditer(text):
            key = name.format(k=match.group("k").lower()) if "{k}" in name else name
            value = _content(_words(match.group("v")))
            if value:
                out.setdefault(key, set()).update(value)
    return out


@dataclass(frozen=True, slots=True)
class _Statement:
    """What ``judge`` reads from one statement's words: computed once per text, as a text meets many others."""

    words: tuple[str, ...]
    content: frozenset[str]
    last: frozenset[str]  # content words of the final word: the value a substitution swaps
    numbers: frozenset[str]
    stance: tuple[int, bool]
    slots: Mapping[str, frozenset[str]]


@lru_cache(maxsize=8192)
def _statement(text: str) -> _Statement:
    words = tuple(_words(text))
    return _Statement(
        words=words,
        content=_content(words),
        last=_content(words[-1:]),
        numbers=_numbers(words),
        stance=_stance(words),
        slots={key: frozenset(value) for key, value in slots(text).items()},
    )


def _opposed(new: _Statement, old: _Statement) -> bool:
    """One negates what the other says ("like" / "don't like"), or their sentiments clash ("love" / "hate")."""
    (new_sentiment, new_negated), (old_sentiment, old_negated) = new.stance, old.stance
    if new_negated != old_negated:
        return new_sentiment == old_sentiment
    return new_sentiment * old_sentiment < 0


def _substituted(new: _Statement, old: _Statement) -> bool:
    """The same frame with its final value swapped: "born in Porto" / "born in Lisbon"."""
    added, removed = new.content - old.content, old.content - new.content
    if len(added) != 1 or len(removed) != 1 or not new.content & old.content:
        return False
    return bool(new.last) and new.last <= added and old.last <= removed


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def judge(new: str, old: str, similarity: float, thresholds: RelationThresholds | None = None) -> Relation:
    """How statement ``new`` relates to ``old``, given the cosine similarity of their embeddings."""
    limits = thresholds or RelationThresholds()
    if similarity < limits.slot_topic:
        return Relation.NONE
    new_s, old_s = _statement(new), _statement(old)
    opposed = _opposed(new_s, old_s)
    if similarity >= limits.topic and opposed and _jaccard(new_s.content, old_s.content) >= 0.5:
        return Relation.CONTRADICTS
    if not opposed:
        for key in new_s.slots.keys() & old_s.slots.keys():
            needed = limits.topic if key == "prefer" or key.startswith("my:") else limits.slot_topic
            if similarity >= needed and not new_s.slots[key] & old_s.slots[key]:
                return Relation.CONTRADICTS
    if similarity < limits.topic:
        return Relation.NONE
    rest = _jaccard(new_s.content - new_s.numbers, old_s.content - old_s.numbers)
    if new_s.numbers and old_s.numbers and new_s.numbers != old_s.numbers and rest >= 0.5:
        return Relation.CONTRADICTS
    if not opposed and similarity >= limits.substitution and _substituted(new_s, old_s):
        return Relation.CONTRADICTS
    return Relation.CORROBORATES if similarity >= limits.duplicate and not opposed else Relation.NONE


def link(new: MemoryEntry, old: MemoryEntry, relation: Relation, now: datetime) -> None:
    """Record ``relation`` on both memories: ids, counts and a history event on each."""
    if relation is Relation.NONE:
        return
    new.related_memories = list(dict.fromkeys([*new.related_memories, old.id]))
    old.related_memories = list(dict.fromkeys([*old.related_memories, new.id]))
    if relation is Relation.CORROBORATES:
        new.supports = list(dict.fromkeys([*new.supports, old.id]))
        old.confidence.corroboration_count += 1
        old.history.append(MemoryEvent(kind=EventKind.CORROBORATED, at=now, other=new.id, detail=new.content))
        return
    new.contradicts = list(dict.fromkeys([*new.contradicts, old.id]))
    old.contradicts = list(dict.fromkeys([*old.contradicts, new.id]))
    for entry, other in ((new, old), (old, new)):
        entry.confidence.contradiction_count += 1
        entry.history.append(MemoryEvent(kind=EventKind.CONTRADICTED, at=now, other=other.id, detail=other.content))


def relate(
    content: str, neighbours: list[tuple[MemoryEntry, float]], thresholds: RelationThresholds | None = None
) -> list[tuple[MemoryEntry, Relation]]:
    """What a new statement does to its nearest memories: every contradiction, and the closest corroboration."""
    out: list[tuple[MemoryEntry, Relation]] = []
    corroborated = False
    for entry, similarity in sorted(neighbours, key=lambda pair: pair[1], reverse=True):
        relation = judge(content, entry.content, similarity, thresholds)
        if relation is Relation.CONTRADICTS or (relation is Relation.CORROBORATES and not corroborated):
            out.append((entry, relation))
            corroborated = corroborated or relation is Relation.CORROBORATES
    return out
