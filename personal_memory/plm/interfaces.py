"""The seams the PLM takes over once a trained model exists (fast rule-based paths implement them today)."""

from __future__ import annotations

from typing import Protocol

from personal_memory.pms.schema import MemoryType, TruthCategory


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
    def classify(self, content: str) -> MemoryClassification: ...


class ContextGenerator(Protocol):
    def generate(self, query: str, memories: list[str]) -> str: ...
