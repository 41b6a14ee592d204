"""The local memory classifier: cue rules plus similarity to labelled prototypes, in a few milliseconds.

memory_type: each type scores ``similarity to its prototype centroid + RULE_WEIGHT * matching cues``;
the highest wins. truth_category follows the truth taxonomy: hedged or third-person statements
are INFERRED, preferences and beliefs are OPINION, verifiable facts (dates, measures, names,
spellings) are ABSOLUTE, and the rest is CONTEXTUAL. Domains come from the domain lexicon,
entities from patterns. It implements ``plm.interfaces.MemoryClassifier`` so the PLM can take over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from personal_memory.pms.classification.entities import extract_entities
from personal_memory.pms.classification.prototypes import PrototypeIndex
from personal_memory.pms.classification.rules import truth_cue_counts, type_cue_counts
from personal_memory.pms.domains import detect_domains
from personal_memory.pms.embedding import Embedder
from personal_memory.pms.schema import MemoryType, TruthCategory

RULE_WEIGHT = 0.12
_OPINION_TYPES = frozenset({MemoryType.PREFERENCE, MemoryType.BELIEF})
_VERIFIABLE_TYPES = frozenset({MemoryType.FACT, MemoryType.EVENT})


@dataclass(frozen=True, slots=True)
class Classification:
    memory_type: MemoryType
    truth_category: TruthCategory
    domains: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    type_scores: dict[MemoryType, float] = field(default_factory=dict, repr=False)


def truth_category_of(text: str, memory_type: MemoryType) -> TruthCategory:
    cues = truth_cue_counts(text)
    if cues[TruthCategory.INFERRED]:
        return TruthCategory.INFERRED
    if memory_type in _OPINION_TYPES:
        return TruthCategory.OPINION
    if memory_type in _VERIFIABLE_TYPES and cues[TruthCategory.ABSOLUTE]:
        return TruthCategory.ABSOLUTE
    return TruthCategory.CONTEXTUAL


class LocalClassifier:
    """Offline classifier over the service's embedder; prototype vectors are computed once, lazily."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._prototypes = PrototypeIndex(embedder)

    def classify(self, content: str, vector: np.ndarray | None = None) -> Classification:
        """Classify ``content``; pass its embedding when known to skip embedding it again."""
        if vector is None:
            vector = self._embedder.embed([content])[0]
        similarity = self._prototypes.similarities(vector)
        cues = type_cue_counts(content)
        scores = {kind: similarity[kind] + RULE_WEIGHT * cues[kind] for kind in similarity}
        memory_type = max(scores, key=lambda kind: scores[kind])
        return Classification(
            memory_type=memory_type,
            truth_category=truth_category_of(content, memory_type),
            domains=detect_domains(content),
            entities=extract_entities(content),
            type_scores=scores,
        )
