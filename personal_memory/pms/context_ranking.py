"""Context-aware reranking: a memory is scored with its thread, not only its own words.

In a conversation the answer to a question is often spread over a few turns ("Did you go?" / "Yes, last
Friday, with the kids"), and the turn that holds it may share no word with the question. So recall
rescores its best candidates with signals from around each one (``context_features``): the dense and
full-text scores of its neighbour turns and of the rest of its session, BM25 over the few turns around it
read as one text, the best candidate of the same session, whether the question names its speaker and
whether a "when" meets a turn that speaks of time. A small listwise logistic model (weights in ``data/rerank.json``,
re-trained with ``python bench/locomo.py --train-reranker``) combines them into the relevance recall ranks by.

The turns within ``WINDOW`` of the best candidates join the pool: the one that answers is often too far down
both result lists to be fetched (on LoCoMo this lifts the share of evidence the pool holds from 0.93 to 0.97).
Cost stays bounded at any store size: the scores come from the two result lists recall already fetched, and
the texts from the candidates' records plus one batched read of those neighbours. A threaded memory's id is
derived from its place in the thread (``ConversationRef.at``), so a neighbour's id is computed, not searched;
one absent from the result lists scores the list's floor. A memory outside any
thread is its own context, and a pool without threads keeps the plain hybrid order, so atomic memories
keep their ranking.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from uuid import UUID

import numpy as np

from personal_memory.pms.context_features import (
    FEATURES,
    Signals,
    conversation_ref,
    features,
    lexical_query,
    window_ids,
)
from personal_memory.pms.ranking import Candidate
from personal_memory.pms.schema import MemoryStatus

__all__ = ["CONTEXT_FETCH", "FEATURES", "ContextRanker", "RerankModel", "lexical_query", "load_model"]

DEFAULT_POOL = 150  # candidates rescored (by plain relevance); only these can come back unfiltered
CONTEXT_FETCH = 100  # hits fetched from each search: the neighbours' scores are looked up in them
THREAD_READ = 30  # the best candidates whose surrounding turns are read (more bought no recall, only latency)
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


def _neighbours(pool: list[Candidate], attach: Attach) -> list[Candidate]:
    """The active turns within ``WINDOW`` of the pool's first ``THREAD_READ`` that are not in the pool: one batch.

    They join the pool: the turn that answers is often next to the one that matches ("Did you go?" / "Yes,
    last Friday"), too far down both result lists to be fetched at all."""
    known = {c.memory_id for c in pool}
    wanted: dict[UUID, Candidate] = {}
    for cand in pool[:THREAD_READ]:
        ref = conversation_ref(cand)
        if ref is not None:
            for memory_id in window_ids(ref):
                if memory_id not in known and memory_id not in wanted:
                    wanted[memory_id] = Candidate(memory_id, cand.tier)  # a neighbour is most likely in its tier
    attach(list(wanted.values()))
    return [c for c in wanted.values() if c.entry is not None and c.entry.status is MemoryStatus.ACTIVE]


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
        if not any(conversation_ref(c) is not None for c in pool):
            return pool  # no thread to read: atomic memories keep the plain hybrid order
        pool += _neighbours(pool, attach)
        rows = features(query, pool, Signals.of(ordered))
        if self.recorder is not None:
            self.recorder(query, pool, rows)
        for cand, score in zip(pool, self.model.score(rows), strict=True):
            cand.relevance = float(score)
        return sorted(pool, key=lambda c: c.relevance, reverse=True)
