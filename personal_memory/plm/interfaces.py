"""The seams the PLM takes over once a trained model exists (fast rule-based paths implement them today)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from personal_memory.pms.schema import MemoryEntry, MemoryType, TruthCategory


class QueryAnalysis(Protocol):
    domains: list[str]
    intent: str
    confidence: float


class QueryAnalyzer(Protocol):
    def analyze(self, query: str) -> QueryAnalysis: ...


class MemoryClassification(Protocol):
    memory_type: MemoryType
    truth_category: TruthCategory
    domains: list[str]
    entities: list[str]


class MemoryClassifier(Protocol):
    def classify(self, content: str, vector: np.ndarray | None = None) -> MemoryClassification:
        """Label ``content``; ``vector`` is its embedding when the caller has one (free to ignore)."""
        ...


class ContextLine(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def memory_ids(self) -> list[str]: ...
    @property
    def section(self) -> str: ...


class ContextGenerator(Protocol):
    """Lines of personal context from ranked memories; each line names the memories it came from."""

    def generate(self, query: str | None, memories: Sequence[MemoryEntry]) -> Sequence[ContextLine]: ...
