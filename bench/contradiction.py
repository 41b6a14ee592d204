"""Measure the corroboration/contradiction detector on labelled statement pairs.

    PMEM_EMBEDDER_CACHE=/tmp/pmem-embedder-cache python bench/contradiction.py

Similarities come from the real embedder. Prints precision and recall of both relations on the test
half at the configured thresholds, and a sweep of the duplicate threshold on the dev half.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from personal_memory.config import load_settings
from personal_memory.container import build_embedder
from personal_memory.pms.embedding import Embedder
from personal_memory.pms.relations import Relation, RelationThresholds, judge

DATA = Path(__file__).parent / "data" / "pairs.txt"
LABELS = {"same": Relation.CORROBORATES, "contra": Relation.CONTRADICTS, "none": Relation.NONE}


@dataclass(frozen=True, slots=True)
class Pair:
    old: str
    new: str
    label: Relation
    similarity: float
    dev: bool


def load(embedder: Embedder, path: Path = DATA) -> list[Pair]:
    rows = [line.split("|") for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    old = embedder.embed([r[1] for r in rows])
    new = embedder.embed([r[2] for r in rows])
    sims = np.sum(old * new, axis=1)
    return [
        Pair(r[1], r[2], LABELS[r[0]], float(sim), dev=i % 2 == 0)
        for i, (r, sim) in enumerate(zip(rows, sims, strict=True))
    ]


def scores(pairs: list[Pair], limits: RelationThresholds, relation: Relation) -> tuple[float, float, int]:
    predicted = [judge(p.new, p.old, p.similarity, limits) for p in pairs]
    tp = sum(pred is relation and p.label is relation for pred, p in zip(predicted, pairs, strict=True))
    fp = sum(pred is relation and p.label is not relation for pred, p in zip(predicted, pairs, strict=True))
    fn = sum(pred is not relation and p.label is relation for pred, p in zip(predicted, pairs, strict=True))
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), tp + fn


def main() -> None:
    pairs = load(build_embedder(load_settings()))
    dev = [p for p in pairs if p.dev]
    test = [p for p in pairs if not p.dev]
    limits = RelationThresholds()
    print(f"pairs: {len(pairs)} (dev {len(dev)}, test {len(test)}); thresholds {limits}")
    for name, subset in (("test", test), ("dev", dev)):
        for relation in (Relation.CONTRADICTS, Relation.CORROBORATES):
            precision, recall, support = scores(subset, limits, relation)
            print(f"{name:<5} {relation.value:<13} precision {precision:.3f}  recall {recall:.3f}  (n={support})")
    print("\ndev sweep of the duplicate threshold (corroborates precision / recall):")
    for threshold in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
        precision, recall, _ = scores(dev, replace(limits, duplicate=threshold), Relation.CORROBORATES)
        print(f"  {threshold:.2f}: {precision:.3f} / {recall:.3f}")
    wrong = [p for p in test if judge(p.new, p.old, p.similarity, limits) is not p.label]
    print(f"\ntest errors ({len(wrong)}):")
    for p in wrong:
        print(f"  {p.label.value:<13} got {judge(p.new, p.old, p.similarity, limits).value:<13} "
              f"{p.similarity:.2f}  {p.old!r} / {p.new!r}")


if __name__ == "__main__":
    main()
