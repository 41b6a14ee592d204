"""LoCoMo for the retrieval bench: turns, questions with normalised evidence, metrics and the reference rankers."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import snowballstemmer

from personal_memory.ingest.adapters.conversation import turn_text
from personal_memory.pms.embedding import Embedder

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (5, 10, 20)
_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    category: int
    evidence: frozenset[str]


@dataclass(slots=True)
class Conversation:
    sample_id: str
    raw: dict[str, object]
    dia_ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    dropped_evidence: int = 0
    no_evidence: int = 0


def normalise_evidence(ids: list[str]) -> list[str]:
    """'D8:6; D9:17' -> ['D8:6', 'D9:17'], 'D:11:26' -> 'D11:26', 'D30:05' -> 'D30:5'."""
    return [f"D{int(s)}:{int(t)}" for item in ids for s, t in _EVIDENCE.findall(item)]


def load(path: Path, limit: int | None, limit_questions: int | None) -> list[Conversation]:
    """The samples in ``path`` with their turns (as the product stores them) and categories 1-4 questions."""
    out: list[Conversation] = []
    for sample in json.loads(path.read_text())[:limit]:
        conv = Conversation(sample["sample_id"], sample)
        talk = sample["conversation"]
        sessions = sorted(int(k.split("_")[1]) for k in talk if re.fullmatch(r"session_\d+", k))
        for number in sessions:
            date = talk.get(f"session_{number}_date_time")
            for turn in talk[f"session_{number}"]:
                conv.dia_ids.append(turn["dia_id"])
                conv.texts.append(turn_text(date, turn["speaker"], turn.get("text", ""), turn.get("blip_caption")))
        known = set(conv.dia_ids)
        for qa in sample["qa"]:
            if qa["category"] not in CATEGORIES:
                continue
            ids = normalise_evidence(qa.get("evidence", []))
            valid = frozenset(i for i in ids if i in known)
            conv.dropped_evidence += len(set(ids) - valid)
            if not valid:
                conv.no_evidence += 1
                continue
            conv.questions.append(Question(qa["question"], qa["category"], valid))
        conv.questions = conv.questions[:limit_questions]
        out.append(conv)
    return out


@dataclass(slots=True)
class Scores:
    """Evidence recall@k and hit@10 per question, grouped by category."""

    rows: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    def add(self, question: Question, ranked: list[set[str]]) -> None:
        row: dict[str, float] = {}
        for k in KS:
            found = set().union(*ranked[:k]) if ranked else set()
            row[f"r@{k}"] = len(question.evidence & found) / len(question.evidence)
        row["hit@10"] = float(row["r@10"] > 0)
        self.rows.append((question.category, row))

    def extend(self, other: Scores) -> None:
        self.rows.extend(other.rows)

    def mean(self, category: int | None = None) -> dict[str, float]:
        chosen = [r for c, r in self.rows if category is None or c == category]
        return {key: float(np.mean([r[key] for r in chosen])) if chosen else math.nan for key in self.keys()}

    @staticmethod
    def keys() -> list[str]:
        return [*(f"r@{k}" for k in KS), "hit@10"]


class Bm25:
    """Okapi BM25 (k1 1.2, b 0.75) over Snowball-stemmed words: the keyword reference line."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self._stem = snowballstemmer.stemmer("english")
        self.docs = [Counter(self.tokens(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=np.float64)
        df = Counter(w for d in self.docs for w in d)
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}
        self.k1, self.b, self.avg = k1, b, float(self.lengths.mean()) if n else 0.0

    def tokens(self, text: str) -> list[str]:
        return self._stem.stemWords([w.casefold() for w in _WORD.findall(text)])

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.docs))
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.avg, 1e-9))
        for word in set(self.tokens(query)):
            idf = self.idf.get(word)
            if idf is None:
                continue
            tf = np.array([d.get(word, 0) for d in self.docs], dtype=np.float64)
            out += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


def cached_vectors(embedder: Embedder, texts: list[str], cache: Path) -> np.ndarray:
    """The turns' MiniLM vectors, computed once per model and text set."""
    import hashlib

    key = hashlib.sha256("\x1e".join([embedder.identity, *texts]).encode()).hexdigest()[:16]
    path = cache / f"vectors-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = embedder.embed(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def reference_scores(conv: Conversation, embedder: Embedder, cache: Path) -> dict[str, Scores]:
    """Stemmed BM25 and plain MiniLM cosine over the same turns, each turn one document."""
    bm25 = Bm25(conv.texts)
    vectors = cached_vectors(embedder, conv.texts, cache)
    queries = embedder.embed([q.text for q in conv.questions])
    out = {"bm25-stemmed": Scores(), "minilm-cosine": Scores()}
    for question, qvec in zip(conv.questions, queries, strict=True):
        for name, scores in (("bm25-stemmed", bm25.scores(question.text)), ("minilm-cosine", vectors @ qvec)):
            top = np.argsort(-scores, kind="stable")[: max(KS)]
            out[name].add(question, [{conv.dia_ids[i]} for i in top])
    return out
