"""Remembering: a new statement is validated, embedded, classified, related to what is known, then stored.

A repeat of a known statement corroborates it instead of being copied; a statement close to known ones
corroborates or contradicts them (``relations``). ``remember_many`` does the same for a batch (ingestion).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import numpy as np

from personal_memory.pms.classification import Classification
from personal_memory.pms.relations import Relation, link, relate
from personal_memory.pms.schema import (
    TIER_ORDER,
    Confidence,
    EventKind,
    MemoryEntry,
    MemoryEvent,
    MemorySource,
    MemoryStatus,
    Tier,
    content_hash,
    validate_content,
)
from personal_memory.pms.service_models import NewMemory, RememberOutcome

if TYPE_CHECKING:
    from personal_memory.pms.service import MemoryService

Relations = list[tuple[MemoryEntry, Relation]]


@dataclass(frozen=True, slots=True)
class _Draft:
    """A validated request with its source settled, before it is embedded or stored."""

    request: NewMemory
    content: str
    digest: str
    source: MemorySource
    reliability: float


Relations = list[tuple[MemoryEntry, Relation]]


class Remembering:
    """The write path of new statements, over a service's tiers, model and settings."""

    def __init__(self, service: MemoryService) -> None:
        self._service = service
        self._thresholds = service.options.relation_thresholds

    def remember(self, request: NewMemory) -> RememberOutcome:
        """Store a new memory in short-term, or corroborate the identical one already known."""
        now = self._service.clock()
        draft = self._draft(request, now)
        existing = self._service.find_by_hash(draft.digest)
        if existing is not None:
            return RememberOutcome(self._corroborate(existing, request, draft.source, now), created=False)
        vector = self._service.embedder.embed([draft.content])[0]
        labels = self._service.classifier.classify(draft.content, vector)
        with self._service.writing():
            existing = self._service.find_by_hash(draft.digest)  # another process may have stored it meanwhile
            if existing is not None:
                return RememberOutcome(self._corroborate(existing, request, draft.source, now), created=False)
            entry = self._new_entry(draft, vector, labels, now)
            relations = relate(draft.content, self._neighbours(vector[None, :])[0], self._thresholds)
            return self._commit([(entry, relations)], now)[0]

    def _draft(self, request: NewMemory, now: datetime) -> _Draft:
        """Validate a request and settle its source; raises before anything is stored."""
        content = validate_content(request.content, self._service.options.max_content_bytes)
        reliability = request.source_reliability or self._service.options.default_reliability
        source = request.source or MemorySource(kind="conversation", timestamp=now, reliability=reliability)
        return _Draft(request, content, content_hash(content), source, reliability)

    def _new_entry(self, draft: _Draft, vector: np.ndarray, labels: Classification, now: datetime) -> MemoryEntry:
        request, source = draft.request, draft.source
        tags = clean_labels(request.tags)
        return MemoryEntry(
            id=self._thread_slot(source),
            content=draft.content,
            content_hash=draft.digest,
            tier=Tier.SHORT_TERM,
            memory_type=request.memory_type or labels.memory_type,
            truth_category=request.truth_category or labels.truth_category,
            confidence=Confidence(source_reliability=draft.reliability),
            embedding=vector.tolist(),
            tags=tags,
            domains=clean_labels(request.domains or labels.domains),
            entities=list(dict.fromkeys([*request.entities, *labels.entities])),
            sources=[source],
            created_at=now,
            updated_at=now,
            last_accessed=now,
            expires_at=now + self._service.options.short_term_ttl,
            tag_added_at=dict.fromkeys(tags, now),
            history=[MemoryEvent(kind=EventKind.CREATED, at=now, to_tier=Tier.SHORT_TERM, detail=source.kind)],
        )

    def _commit(self, related: list[tuple[MemoryEntry, Relations]], now: datetime) -> list[RememberOutcome]:
        """Link new entries to what they relate to, then store them in one transaction and the changed old ones
        in one per tier. An "old" entry may be an earlier new one of the same batch: it is stored once, changed."""
        new_ids = {entry.id for entry, _ in related}
        changed: dict[UUID, MemoryEntry] = {}
        for entry, relations in related:
            for old, relation in relations:
                link(entry, old, relation, now)
            self._service.refresh_confidence(entry, now)
            for old, relation in relations:
                if relation is Relation.CORROBORATES:
                    self._service.confirm(old, now)
                else:
                    self._service.refresh_confidence(old, now)
                if old.id not in new_ids:
                    changed[old.id] = old
        self._service.store(Tier.SHORT_TERM).add_many([entry for entry, _ in related])
        for tier in TIER_ORDER:
            self._service.store(tier).update_many([old for old in changed.values() if old.tier is tier])
        return [
            RememberOutcome(
                entry,
                created=True,
                corroborates=[old.id for old, r in relations if r is Relation.CORROBORATES],
                contradicts=[old.id for old, r in relations if r is Relation.CONTRADICTS],
            )
            for entry, relations in related
        ]

    def _thread_slot(self, source: MemorySource) -> UUID:
        """A threaded memory takes its slot's id, so recall can find its neighbours; a taken slot gets a fresh id."""
        ref = source.conversation
        if ref is None:
            return uuid4()
        slot = ref.at(ref.turn)
        return uuid4() if any(self._service.store(t).get_many([slot]) for t in TIER_ORDER) else slot

    def _neighbours(self, vectors: np.ndarray) -> list[list[tuple[MemoryEntry, float]]]:
        """For each row of ``vectors``, the active memories nearest to it in every tier, with their cosine.

        One search and one record read per tier for the whole batch; a memory near several rows is one object.
        """
        found: list[list[tuple[MemoryEntry, float]]] = [[] for _ in range(len(vectors))]
        for tier in TIER_ORDER:
            store = self._service.store(tier)
            hits = store.dense_search_many(vectors, self._service.options.relation_neighbours)
            entries = store.get_many(list({memory_id for row in hits for memory_id, _ in row}))
            for row, out in zip(hits, found, strict=True):
                for memory_id, similarity in row:
                    entry = entries.get(memory_id)
                    if entry is not None and entry.status is MemoryStatus.ACTIVE:
                        out.append((entry, similarity))
        return found

    def _corroborate(self, entry: MemoryEntry, request: NewMemory, source: MemorySource, now: datetime) -> MemoryEntry:
        with self._service.writing():
            entry = self._service.find(entry.id)
            entry.confidence.corroboration_count += 1
            entry.sources.append(source)
            entry.tags = clean_labels([*entry.tags, *request.tags])
            entry.tag_added_at = dict.fromkeys(entry.tags, now) | entry.tag_added_at
            entry.domains = clean_labels([*entry.domains, *request.domains])
            entry.history.append(MemoryEvent(kind=EventKind.CORROBORATED, at=now, detail="the same statement again"))
            self._service.confirm(entry, now)
            self._service.save(entry)
        return entry

    def remember_many(self, requests: list[NewMemory]) -> list[RememberOutcome]:
        """``remember`` each request, in order, as one batch: one embedder call, one neighbour search per tier,
        one write transaction. A memory also relates to the nearest earlier ones of its own batch, and a repeat
        of a stored (or earlier) statement corroborates it.

        Every content is validated first, so one bad request stores nothing of the batch.
        """
        now = self._service.clock()
        drafts = [self._draft(r, now) for r in requests]
        firsts: dict[str, _Draft] = {}  # the first request of each statement, in order
        for draft in drafts:
            firsts.setdefault(draft.digest, draft)
        fresh = [d for d in firsts.values() if self._service.find_by_hash(d.digest) is None]
        embedder = self._service.embedder
        vectors = embedder.embed([d.content for d in fresh]) if fresh else np.zeros((0, embedder.dim))
        labels = [self._service.classifier.classify(d.content, v) for d, v in zip(fresh, vectors, strict=True)]
        outcomes: dict[int, RememberOutcome] = {}  # by draft
        with self._service.writing():
            # others' writes meanwhile
            keep = [i for i, d in enumerate(fresh) if self._service.find_by_hash(d.digest) is None]
            fresh, vectors = [fresh[i] for i in keep], vectors[keep]
            entries = [self._new_entry(d, vectors[n], labels[keep[n]], now) for n, d in enumerate(fresh)]
            neighbours = self._neighbours(vectors)
            similarity = vectors @ vectors.T
            related: list[tuple[MemoryEntry, Relations]] = []
            for n, (draft, entry) in enumerate(zip(fresh, entries, strict=True)):
                earlier = np.argsort(-similarity[n, :n])[: self._service.options.relation_neighbours]
                candidates = neighbours[n] + [(entries[i], float(similarity[n, i])) for i in earlier]
                related.append((entry, relate(draft.content, candidates, self._thresholds)))
            if related:
                outcomes = {id(d): outcome for d, outcome in zip(fresh, self._commit(related, now), strict=True)}
        return [outcomes.pop(id(d), None) or self.remember(d.request) for d in drafts]


def clean_labels(labels: list[str]) -> list[str]:
    """Lower-case, trimmed, de-duplicated labels (tags, domains) in first-seen order."""
    return list(dict.fromkeys(label.strip().lower() for label in labels if label and label.strip()))
