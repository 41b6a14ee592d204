"""Labelled prototype statements per memory type, embedded once per embedder into class centroids.

These sentences build the classifier; the benchmark and tests use a separate labelled set
(``bench/data/classifier.jsonl``), so the measured accuracy is on statements the classifier never saw.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np

from personal_memory.pms.embedding import Embedder
from personal_memory.pms.schema import MemoryType

PROTOTYPES: Mapping[MemoryType, tuple[str, ...]] = {
    MemoryType.FACT: (
        "My name is Jordan Smith",
        "I live in a small flat in Manchester",
        "I have two sons and a daughter",
        "My wife is a nurse at the city hospital",
        "I am allergic to shellfish",
        "I was born in Toronto",
        "I work as a data analyst at an insurance company",
        "My dog is a border collie called Pip",
        "I am 42 years old",
        "My surname is spelled with two Ls",
        "I own a 2015 Honda Civic",
        "My office is on the fourth floor",
    ),
    MemoryType.BELIEF: (
        "I believe code reviews make teams better",
        "I think remote work is more productive than office work",
        "Everyone should learn to cook basic meals",
        "In my opinion unit tests matter more than documentation",
        "Microservices are overrated for small teams",
        "I am convinced that sleep is the key to good health",
        "Open source software is good for society",
        "Static typing prevents a whole class of bugs",
        "Public transport should be free in cities",
        "Premature optimisation is a waste of time",
    ),
    MemoryType.PREFERENCE: (
        "I prefer dark mode in every editor",
        "My favourite food is Thai green curry",
        "I like my coffee black without sugar",
        "I love hiking in the mountains on weekends",
        "I hate long meetings",
        "I would rather take the train than fly",
        "I enjoy reading science fiction",
        "I don't like spicy food",
        "I prefer email over phone calls",
        "Jazz is my favourite kind of music",
        "I like short answers with code examples",
    ),
    MemoryType.SKILL: (
        "I am fluent in Spanish",
        "I can play the guitar",
        "I know how to write SQL queries",
        "I have ten years of experience with Java",
        "I am proficient in Kubernetes",
        "I can cook French dishes",
        "I am good at public speaking",
        "I speak German and a little Japanese",
        "I am an expert in network security",
        "I can drive a manual car",
        "I know React well",
    ),
    MemoryType.EVENT: (
        "I went to a concert in Paris last Saturday",
        "Yesterday I had a job interview at Google",
        "I ran my first marathon in April",
        "Last week I visited my parents",
        "I got married in June 2018",
        "We adopted a kitten two days ago",
        "I finished the migration to Postgres this morning",
        "I attended PyCon last year",
        "I broke my wrist skiing in January",
        "My son started school on Monday",
    ),
    MemoryType.CONTEXT: (
        "I'm currently working on a Drupal migration for a ministry",
        "Our team uses GitHub Actions for CI",
        "This sprint I am focusing on performance",
        "The project deadline is the end of the quarter",
        "At work we deploy to AWS",
        "I am preparing a talk for next month",
        "These days I mostly write TypeScript",
        "Our codebase is a large Django monolith",
        "I'm learning Rust at the moment",
        "I am planning a trip to Japan",
        "We are hiring two backend developers",
    ),
}


class PrototypeIndex:
    """Class centroids of the prototypes under one embedder; computed once, on first use."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._lock = threading.Lock()
        self._labels: list[MemoryType] = []
        self._centroids: np.ndarray | None = None

    def _load(self) -> tuple[list[MemoryType], np.ndarray]:
        with self._lock:
            if self._centroids is None:
                labels = list(PROTOTYPES)
                rows = []
                for label in labels:
                    vectors = self._embedder.embed(list(PROTOTYPES[label]))
                    centroid = vectors.mean(axis=0)
                    rows.append(centroid / max(float(np.linalg.norm(centroid)), 1e-9))
                self._labels, self._centroids = labels, np.vstack(rows).astype(np.float32)
            return self._labels, self._centroids

    def similarities(self, vector: np.ndarray) -> dict[MemoryType, float]:
        """Cosine similarity of a unit vector to each type's centroid."""
        labels, centroids = self._load()
        scores = centroids @ vector.astype(np.float32)
        return {label: float(score) for label, score in zip(labels, scores, strict=True)}
