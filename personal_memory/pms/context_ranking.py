"""Context-aware reranking: a memory is scored with its thread, not only its own words.

In a conversation the answer to a question is often spread over a few turns ("Did you go?" / "Yes, last
Friday, with the kids"), and the turn that holds it may share no word with the question. So recall
rescores its best candidates with signals from around each one: the dense and full-text scores of its
neighbour turns and of the rest of its session, the best candidate of the same session, and whether the
question names its speaker. A small logistic model (weights in ``data/rerank.json``, re-trained with
``python bench/locomo.py --train-reranker``) combines them into the relevance recall ranks by.

Cost stays bounded at any store size: every signal comes from the two result lists recall already fetched
and from the candidates' own records. Neighbours are never loaded: a threaded memory's id is derived from
its place in the thread (``ConversationRef.at``), so a neighbour's id is computed and looked up in the
result lists; one absent from them scores the list's floor. A memory outside any thread is its own
context, so atomic memories keep their ranking.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
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
)
SESSION_REACH = 15
DEFAULT_POOL = 100  # candidates rescored (by plain relevance); only these can come back unfiltered
CONTEXT_FETCH = 100  # hits fetched from each search: the neighbours' scores are looked up in them
_WORD = re.compile(r"\w+", re.UNICODE)
# Words a question is made of rather than what it asks about; they match every turn of a conversation.
_QUESTION_WORDS = frozenset(
    "a about an and any are as at be been being by can could did do does doing for from had has have how i if in "
    "into is it its kind likely me might my of on or s should so some than that the their them they this to type "
    "was were what when where which who whom whose why will with would you your".split()
)
_MODEL_FILE = "rerank.json"

Attach = Callable[[list[Candidate]], None]


@dataclass(frozen=True, slots=True)
class RerankModel:
    """Standardised features -> logistic relevance."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    trained_on: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RerankModel:
        names = tuple(str(n) for n in _as_list(data["features"]))
        if names != FEATURES:
            raise ValueError(f"reranker weights are for features {names}, this code computes {FEATURES}: re-train")
        return cls(
            features=names,
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),  # pyright: ignore[reportArgumentType] - validated by float()
            trained_on=tuple(str(s) for s in _as_list(data.get("trained_on", []))),
        )

    @classmethod
    def neutral(cls) -> RerankModel:
        """Plain hybrid relevance: the starting point when the features change and the weights are re-trained."""
        ones = np.ones(len(FEATURES))
        return cls(FEATURES, ones * 0.0, ones, np.array([float(f == "base") for f in FEATURES]), 0.0)

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(),
            "bias": round(self.bias, 6),
            "trained_on": list(self.trained_on),
        }

    def score(self, rows: np.ndarray) -> np.ndarray:
        logits = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-logits))


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list in the reranker weights, got {type(value).__name__}")
    return value  # pyright: ignore[reportUnknownVariableType]


def load_model(path: Path | None = None) -> RerankModel:
    """The shipped weights, or those at ``path``."""
    text = path.read_text() if path else resources.files("personal_memory.pms.data").joinpath(_MODEL_FILE).read_text()
    return RerankModel.from_json(json.loads(text))


def shipped_model_path() -> Path:
    return Path(str(resources.files("personal_memory.pms.data").joinpath(_MODEL_FILE)))


@lru_cache(maxsize=1 << 14)
def _around(thread: str, session: int, turn: int) -> tuple[tuple[int, UUID], ...]:
    """(distance, id) of the slots within ``SESSION_REACH`` turns of a turn in its session, itself excluded."""
    return tuple(
        (abs(t - turn), thread_id(thread, session, t))
        for t in range(max(turn - SESSION_REACH, 0), turn + SESSION_REACH + 1)
        if t != turn
    )


def lexical_query(text: str) -> str:
    """The words of ``text`` worth a full-text search: question words dropped, unless nothing else is left."""
    words = _WORD.findall(text)
    kept = [w for w in words if w.casefold() not in _QUESTION_WORDS]
    return " ".join(kept or words)


def _names(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


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


def _ref(cand: Candidate) -> ConversationRef | None:
    entry = cand.entry
    if entry is None:
        return None
    return next((s.conversation for s in entry.sources if s.conversation is not None), None)


def features(query: str, pool: list[Candidate], signals: Signals) -> np.ndarray:
    """One row of ``FEATURES`` per pool candidate (in the pool's order, which is by plain relevance)."""
    dense_floor, dense_best = signals.dense_floor, signals.dense_best
    named = _names(query)
    refs = [_ref(c) for c in pool]
    speakers = {r.speaker.casefold() for r in refs if r is not None and r.speaker}
    others_named = speakers & named
    rows = np.zeros((len(pool), len(FEATURES)), dtype=np.float64)
    missing = (dense_floor, 0.0, 0.0)
    for i, (cand, ref) in enumerate(zip(pool, refs, strict=True)):
        own = signals.lookup.get(cand.memory_id, missing)
        if ref is None:  # outside any thread: the memory is its own context
            around = [(1, own)]
            speaker = ""
        else:
            around = [(d, signals.lookup.get(m, missing)) for d, m in _around(ref.thread, ref.session, ref.turn)]
            speaker = (ref.speaker or "").casefold()
        adjacent = [v for d, v in around if d == 1] or [missing]
        near = [v for d, v in around if d <= 2]
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
            math.log1p(sum(v[1] for _, v in around)),
            max(v[0] for _, v in around),
            max(v[2] for _, v in around),
            float(bool(speaker) and speaker in named),
            float(bool(others_named - {speaker}) and speaker not in named),
        )
    return rows


Recorder = Callable[[str, list[Candidate], np.ndarray], None]


class ContextRanker:
    """Rescores recall's best candidates (by plain relevance) with their thread; only those can come back."""

    def __init__(self, model: RerankModel | None = None, pool_size: int = DEFAULT_POOL) -> None:
        self.model = model or load_model()
        self.pool_size = pool_size
        self.recorder: Recorder | None = None  # the benchmark records features to re-train the model

    def rerank(self, query: str, candidates: dict[UUID, Candidate], attach: Attach, whole: bool) -> list[Candidate]:
        """Candidates best first, entries attached to the pool. ``whole``: rescore every candidate (filters)."""
        ordered = sorted(candidates.values(), key=lambda c: c.relevance, reverse=True)
        pool = ordered if whole else ordered[: self.pool_size]
        attach(pool)
        pool = [c for c in pool if c.entry is not None]
        if not any(_ref(c) is not None for c in pool):
            return pool  # no thread to read: atomic memories keep the plain hybrid order
        rows = features(query, pool, Signals.of(ordered))
        if self.recorder is not None:
            self.recorder(query, pool, rows)
        for cand, score in zip(pool, self.model.score(rows), strict=True):
            cand.relevance = float(score)
        return sorted(pool, key=lambda c: c.relevance, reverse=True)
