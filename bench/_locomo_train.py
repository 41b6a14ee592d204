"""Fitting the reranker: a listwise logistic model over the features recall computed for its candidate pools."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bench._locomo_data import Conversation
from personal_memory.pms.context_ranking import FEATURES, RerankModel
from personal_memory.pms.ranking import Candidate

L2 = 0.3


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


Objective = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def _newton(objective: Objective, dim: int) -> np.ndarray:
    """Minimise a smooth convex loss given its value, gradient and Hessian: Newton steps, halved until they help."""
    w = np.zeros(dim)
    loss, grad, hess = objective(w)
    for _ in range(100):
        delta = np.linalg.solve(hess, grad)
        step = 1.0
        while step > 1e-6:
            candidate = w - step * delta
            new_loss, new_grad, new_hess = objective(candidate)
            if new_loss <= loss:
                break
            step /= 2
        else:
            break
        w, converged = candidate, loss - new_loss < 1e-10
        loss, grad, hess = new_loss, new_grad, new_hess
        if converged:
            break
    return w


def _listwise(pools: list[tuple[np.ndarray, np.ndarray]], dim: int) -> np.ndarray:
    """Weights whose softmax over each pool puts its mass on the pool's evidence (spread evenly over it)."""

    def objective(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        loss, grad, hess = 0.5 * L2 * float(w @ w), L2 * w, L2 * np.eye(dim)
        for z, y in pools:
            logits = z @ w
            top = logits.max()
            p = np.exp(logits - top)
            total = p.sum()
            p /= total
            target = y / y.sum()
            loss -= float(target @ (logits - top - np.log(total)))
            grad = grad + z.T @ (p - target)
            zp = z.T @ p
            hess = hess + (z * p[:, None]).T @ z - np.outer(zp, zp)
        return loss, grad, hess

    return _newton(objective, dim)


def _calibration(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Scale and bias that turn ranking logits into probabilities of being evidence (1-D logistic fit)."""
    z = np.column_stack([logits, np.ones_like(logits)])

    def objective(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        logits = z @ w
        p = 1.0 / (1.0 + np.exp(-logits))
        loss = float(np.sum(np.logaddexp(0.0, logits) - y * logits))
        return loss, z.T @ (p - y), (z * (p * (1 - p))[:, None]).T @ z + np.eye(2) * 1e-6

    scale, bias = _newton(objective, 2)
    return float(scale), float(bias)


def fit(records: Records, exclude: str | None = None) -> RerankModel:
    """A listwise model on standardised features: recall ranks each pool, so each pool is fitted as a ranking
    (softmax cross-entropy, L2-regularised, Newton steps), then calibrated so its scores read as probabilities
    (recall multiplies them with confidence and recency)."""
    names = sorted(n for n in records.rows if n != exclude)
    rows = [r for n in names for r in records.rows[n]]
    labels = [lab for n in names for lab in records.labels[n]]
    x = np.vstack(rows)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    pools = [((r - mean) / scale, lab) for r, lab in zip(rows, labels, strict=True) if lab.any()]
    w = _listwise(pools, x.shape[1])
    factor, bias = _calibration(((x - mean) / scale) @ w, np.concatenate(labels))
    return RerankModel(FEATURES, mean, scale, w * factor, bias, tuple(names))
