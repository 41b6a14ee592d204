"""Measure the local classifier on labelled statements it was not built from.

    PMEM_EMBEDDER_CACHE=/tmp/pmem-embedder-cache python bench/classifier.py

Prints accuracy of memory_type and truth_category, a per-type confusion table, domain precision and
recall (on statements with labelled domains) and the time per memory.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from personal_memory.config import load_settings
from personal_memory.container import build_embedder
from personal_memory.pms.classification import LocalClassifier
from personal_memory.pms.schema import MemoryType, TruthCategory

DATA = Path(__file__).parent / "data" / "classifier.txt"


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    memory_type: MemoryType
    truth_category: TruthCategory
    domains: frozenset[str]


def load(path: Path = DATA) -> list[Labelled]:
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, truth, domains, text = line.split("|", 3)
        labels = frozenset(d for d in domains.split(",") if d)
        rows.append(Labelled(text, MemoryType(kind), TruthCategory(truth), labels))
    return rows


def main() -> None:
    rows = load()
    classifier = LocalClassifier(build_embedder(load_settings()))
    classifier.classify("warm up")
    start = time.perf_counter()
    results = [classifier.classify(row.text) for row in rows]
    per_memory_ms = (time.perf_counter() - start) * 1000 / len(rows)

    type_hits = sum(r.memory_type is row.memory_type for r, row in zip(results, rows, strict=True))
    truth_hits = sum(r.truth_category is row.truth_category for r, row in zip(results, rows, strict=True))
    confusion = Counter((row.memory_type, r.memory_type) for r, row in zip(results, rows, strict=True))
    predicted = labelled = correct = 0
    for r, row in zip(results, rows, strict=True):
        if row.domains:
            predicted += len(r.domains)
            labelled += len(row.domains)
            correct += len(row.domains.intersection(r.domains))

    print(f"statements: {len(rows)}  ({per_memory_ms:.2f} ms per memory, embedding included)")
    print(f"memory_type accuracy:    {type_hits / len(rows):.3f}")
    print(f"truth_category accuracy: {truth_hits / len(rows):.3f}")
    print(f"domains precision {correct / max(predicted, 1):.3f}  recall {correct / max(labelled, 1):.3f}")
    kinds = list(MemoryType)
    print("\nconfusion (rows: label, columns: predicted)")
    print(" " * 12 + "".join(f"{k.value[:10]:>11}" for k in kinds))
    for label in kinds:
        print(f"{label.value:<12}" + "".join(f"{confusion[(label, p)]:>11}" for p in kinds))


if __name__ == "__main__":
    main()
