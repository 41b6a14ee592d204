"""The thread signals the context reranker combines: one row of ``FEATURES`` per candidate.

Every signal comes from what recall already holds: the dense and full-text scores of its two result lists
and the records of the pool, which holds the turns just around its best candidates (loaded in one batch).
A turn absent from the result lists scores the list's floor; a memory outside any thread is its own
context, so the thread signals of an atomic memory are its own scores.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

import numpy as np

from personal_memory.pms.ranking import Candidate
from personal_memory.pms.schema import ConversationRef, thread_id

FEATURES = (
    "dense",  # cosine of the memory itself
    "dense_gap",  # its cosine minus the best cosine of the query
    "text",  # its full-text score over the best one of its tier
    "base",  # the plain hybrid relevance (ranking.fuse)
    "base_rank",  # 1 / (1 + its rank by that relevance)
    "dense_adjacent",  # mean cosine of the turns just before and after it
    "dense_window",  # best cosine within 2 turns
    "text_adjacent",  # best full-text score of the turns just before and after it
    "text_window",  # summed full-text score within 2 turns
    "text_session",  # summed full-text score of the rest of its session (within SESSION_REACH turns)
    "dense_session",  # best cosine in the rest of its session
    "base_session",  # best hybrid relevance in the rest of its session
    "speaker_named",  # the question names who said it
    "other_speaker_named",  # the question names someone else of the conversation, not its speaker
    "bm25_window",  # BM25 of the question over the memory and the turns within 2 of it, as one text
    "asks_when",  # the question asks when / how long
    "time_words",  # the memory speaks of time (yesterday, last week, ago...)
    "when_time_words",  # both: the turn that dates an event answers a "when"
)
SESSION_REACH = 15
WINDOW = 2  # turns either side read as one text by bm25_window
BM25_K1 = 0.9
BM25_B = 0.3
_WORD = re.compile(r"\w+", re.UNICODE)
# Words a question is made of rather than what it asks about; they match every turn of a conversation.
_QUESTION_WORDS = frozenset(
    "a about an and any are as at be been being by can could did do does doing for from had has have how i if in "
    "into is it its kind likely me might my of on or s should so some than that the their them they this to type "
    "was were what when where which who whom whose why will with would you your".split()
)
_TIME_WORDS = frozenset(
    "yesterday today tonight tomorrow last ago next week weeks weekend month months year years days recently since "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_SUFFIXES = ("ing", "ed", "es", "s")


def lexical_query(text: str) -> str:
    """The words of ``text`` worth a full-text search: question words dropped, unless nothing else is left."""
    words = _WORD.findall(text)
    kept = [w for w in words if w.casefold() not in _QUESTION_WORDS]
    return " ".join(kept or words)


def _names(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


@lru_cache(maxsize=1 << 15)
def _stem(word: str) -> str:
    """A light suffix strip, so 'painting' meets 'paints' (the full-text index stems; this need only agree)."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1 << 13)
def _terms(text: str) -> tuple[str, ...]:
    return tuple(_stem(w.casefold()) for w in _WORD.findall(text))


def _asks_when(query: str) -> bool:
    words = [w.casefold() for w in _WORD.findall(query)]
    return "when" in words or "how long" in " ".join(words)


@lru_cache(maxsize=1 << 13)
def _speaks_of_time(text: str) -> bool:
    return any(w.casefold() in _TIME_WORDS for w in _WORD.findall(text))


@dataclass(frozen=True, slots=True)
class Signals:
    """What recall fetched for one query: memory id -> (cosine, full-text score, hybrid relevance)."""

    lookup: dict[UUID, tuple[float, float, float]]
    dense_floor: float
    dense_best: float

    @classmethod
    def of(cls, candidates: Iterable[Candidate]) -> Signals:
        cands = list(candidates)
        dense = [c.dense for c in cands if c.dense is not None]
        floor = min(dense, default=0.0)
        return cls(
            lookup={c.memory_id: (floor if c.dense is None else c.dense, c.text, c.relevance) for c in cands},
            dense_floor=floor,
            dense_best=max(dense, default=0.0),
        )


def conversation_ref(cand: Candidate) -> ConversationRef | None:
    entry = cand.entry
    if entry is None:
        return None
    return next((s.conversation for s in entry.sources if s.conversation is not None), None)


@lru_cache(maxsize=1 << 14)
def around(thread: str, session: int, turn: int) -> tuple[tuple[int, UUID], ...]:
    """(distance, id) of the slots within ``SESSION_REACH`` turns of a turn in its session, itself excluded."""
    return tuple(
        (abs(t - turn), thread_id(thread, session, t))
        for t in range(max(turn - SESSION_REACH, 0), turn + SESSION_REACH + 1)
        if t != turn
    )


def window_ids(ref: ConversationRef) -> list[UUID]:
    """The ids of the turns within ``WINDOW`` of a turn (whether or not they exist)."""
    return [m for d, m in around(ref.thread, ref.session, ref.turn) if d <= WINDOW]


def _bm25_windows(query: str, windows: list[list[str]], sample: Iterable[str]) -> np.ndarray:
    """BM25 of the query over each window (texts read as one), document frequencies from ``sample``."""
    wanted = set(_terms(lexical_query(query)))
    texts = list(sample)
    counts = {
        text: Counter(t for t in _terms(text) if t in wanted) for text in {*texts, *(t for w in windows for t in w)}
    }
    docs = [sum((counts[text] for text in window), Counter[str]()) for window in windows]
    lengths = np.array([sum(len(_terms(text)) for text in window) for window in windows], dtype=np.float64)
    df = Counter(t for text in texts for t in counts[text])
    norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(float(lengths.mean()), 1.0))
    out = np.zeros(len(windows))
    for term, count in df.items():
        idf = math.log(1 + (len(texts) - count + 0.5) / (count + 0.5))
        tf = np.array([d[term] for d in docs], dtype=np.float64)
        out += idf * tf * (BM25_K1 + 1) / (tf + norm)
    top = float(out.max(initial=0.0))
    return out / top if top > 0 else out


def features(query: str, pool: list[Candidate], signals: Signals) -> np.ndarray:
    """One row of ``FEATURES`` per pool candidate (in the pool's order: by plain relevance, then the neighbours)."""
    dense_floor, dense_best = signals.dense_floor, signals.dense_best
    texts = {c.memory_id: c.entry.content for c in pool if c.entry is not None}
    named = _names(query)
    refs = [conversation_ref(c) for c in pool]
    speakers = {r.speaker.casefold() for r in refs if r is not None and r.speaker}
    others_named = speakers & named
    asks_when = float(_asks_when(query))
    rows = np.zeros((len(pool), len(FEATURES)), dtype=np.float64)
    missing = (dense_floor, 0.0, 0.0)
    windows: list[list[str]] = []
    for i, (cand, ref) in enumerate(zip(pool, refs, strict=True)):
        own = signals.lookup.get(cand.memory_id, missing)
        content = texts.get(cand.memory_id, "")
        if ref is None:  # outside any thread: the memory is its own context
            near_all = [(1, own)]
            speaker = ""
            windows.append([content])
        else:
            near_all = [(d, signals.lookup.get(m, missing)) for d, m in around(ref.thread, ref.session, ref.turn)]
            speaker = (ref.speaker or "").casefold()
            windows.append([content, *(texts[m] for m in window_ids(ref) if m in texts)])
        adjacent = [v for d, v in near_all if d == 1] or [missing]
        near = [v for d, v in near_all if d <= WINDOW]
        time_words = float(_speaks_of_time(content))
        rows[i] = (
            own[0],
            own[0] - dense_best,
            own[1],
            own[2],
            1.0 / (1.0 + i),
            sum(v[0] for v in adjacent) / len(adjacent),
            max(v[0] for v in near),
            max(v[1] for v in adjacent),
            sum(v[1] for v in near),
            math.log1p(sum(v[1] for _, v in near_all)),
            max(v[0] for _, v in near_all),
            max(v[2] for _, v in near_all),
            float(bool(speaker) and speaker in named),
            float(bool(others_named - {speaker}) and speaker not in named),
            0.0,  # bm25_window, filled below for the whole pool at once
            asks_when,
            time_words,
            asks_when * time_words,
        )
    rows[:, FEATURES.index("bm25_window")] = _bm25_windows(query, windows, texts.values())
    return rows
