"""Fitting the reranker: logistic regression over the features recall computed for its candidate pools."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bench._locomo_data import Conversation
from personal_memory.pms.context_ranking import FEATURES, RerankModel
from personal_memory.pms.ranking import Candidate

L2 = 1.0


@dataclass(slots=True)
class Records:
    """Per conversation: the feature rows of every pool recall rescored, and which rows are evidence."""

    rows: dict[str, list[np.ndarray]] = field(default_factory=dict)
    labels: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def recorder(self, conv: Conversation) -> Callable[[str, list[Candidate], np.ndarray], None]:
        evidence = {q.text.strip(): q.evidence for q in conv.questions}

        def record(query: str, pool: list[Candidate], rows: np.ndarray) -> None:
            wanted = evidence.get(query)
            if wanted is None:
                return
            refs = [
                {s.reference.split(":", 1)[1] for s in c.entry.sources if s.reference} if c.entry else set()
                for c in pool
            ]
            self.rows.setdefault(conv.sample_id, []).append(rows)
            self.labels.setdefault(conv.sample_id, []).append(np.array([float(bool(r & wanted)) for r in refs]))

        return record


def fit(records: Records, exclude: str | None = None) -> RerankModel:
    """L2-regularised logistic regression (Newton steps) on standardised features."""
    names = sorted(n for n in records.rows if n != exclude)
    x = np.vstack([r for n in names for r in records.rows[n]])
    y = np.concatenate([lab for n in names for lab in records.labels[n]])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * L2
    penalty[-1, -1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) + penalty @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return RerankModel(FEATURES, mean, scale, w[:-1], float(w[-1]), tuple(names))
