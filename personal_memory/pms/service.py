"""The memory service: remember, recall, correct and forget over the three tiers.

Library code: it takes its settings as arguments and never reads the environment.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np

from personal_memory.pms import confidence as conf
from personal_memory.pms.access import AccessRecorder
from personal_memory.pms.classification import LocalClassifier
from personal_memory.pms.context_ranking import CONTEXT_FETCH, ContextRanker, lexical_query
from personal_memory.pms.embedding import Embedder
from personal_memory.pms.errors import InvalidMemoryError, MemoryNotFoundError
from personal_memory.pms.locking import WriteLock
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.ports import TierStore
from personal_memory.pms.ranking import Candidate, final_score, fuse
from personal_memory.pms.remembering import Remembering, clean_labels
from personal_memory.pms.schema import (
    TIER_ORDER,
    Confidence,
    EventKind,
    MemoryEntry,
    MemoryEvent,
    MemorySource,
    MemoryStatus,
    Tier,
    utcnow,
    validate_content,
)
from personal_memory.pms.service_models import (
    CorrectOutcome,
    NewMemory,
    RecallHit,
    RecallQuery,
    RememberOutcome,
    ServiceOptions,
)
from personal_memory.pms.stores.sqlite_tier import SqliteTierStore

if TYPE_CHECKING:
    from personal_memory.plm.interfaces import MemoryClassifier

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class MemoryService:
    """Stores open lazily: constructing the service costs nothing, so the server starts at once."""

    def __init__(
        self,
        paths: DataPaths,
        embedder: Embedder,
        options: ServiceOptions | None = None,
        clock: Clock = utcnow,
        classifier: MemoryClassifier | None = None,
        context_ranker: ContextRanker | None = None,
    ) -> None:
        self.paths = paths
        self.context = context_ranker or ContextRanker()
        self.embedder = embedder
        self.classifier: MemoryClassifier = classifier or LocalClassifier(embedder)
        self.options = options or ServiceOptions()
        self.clock = clock
        self._stores: dict[Tier, TierStore] = {}
        self._lock = WriteLock(paths.write_lock)
        self._accesses = AccessRecorder(self._write_accesses, self.options.access_write_delay)
        self._remembering = Remembering(self)
        self._searcher: ThreadPoolExecutor | None = None  # recall's full-text searches, beside its vector search
        self._searcher_lock = threading.Lock()

    # stores ---------------------------------------------------------------------------------------

    def store(self, tier: Tier) -> TierStore:
        found = self._stores.get(tier)
        if found is not None:
            return found
        with self._lock.hold():
            if tier not in self._stores:
                self.paths.ensure()
                self._stores[tier] = self._open(tier)
            return self._stores[tier]

    def _open(self, tier: Tier) -> TierStore:
        identity = self.embedder.identity
        if tier is Tier.SHORT_TERM and self.options.short_term_redis_url:
            from personal_memory.pms.stores.redis_tier import RedisTierStore

            return RedisTierStore(tier, self.options.short_term_redis_url, identity)
        if tier is Tier.SHORT_TERM:
            return SqliteTierStore(tier, self.paths.short_term, identity)
        if tier is Tier.PERSISTENT:
            return SqliteTierStore(tier, self.paths.persistent, identity)
        from personal_memory.pms.stores.lance_tier import LanceTierStore

        return LanceTierStore(
            self.paths.long_term,
            identity,
            self.embedder.dim,
            self.options.lancedb_uri,
            storage_options=self.options.lancedb_storage_options,
        )

    def warm_up(self, open_empty_index: bool = True) -> None:
        """Open every tier and load the model, so the first real call is fast.

        A long-term tier with rows opens LanceDB with the tier; an empty one only when ``open_empty_index``
        (after the model, outside the store lock), since importing LanceDB takes 1-2 s that a new server
        would rather spend answering.
        """
        from personal_memory.pms.stores.lance_tier import LanceTierStore

        for tier in TIER_ORDER:
            self.store(tier)
        self.embedder.embed(["warm up"])
        long_term = self.store(Tier.LONG_TERM)
        if open_empty_index and isinstance(long_term, LanceTierStore):
            long_term.open()

    def close(self) -> None:
        self._accesses.flush()
        if self._searcher is not None:
            self._searcher.shutdown()
            self._searcher = None
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    # lookups --------------------------------------------------------------------------------------

    def find(self, memory_id: UUID, with_embedding: bool = False) -> MemoryEntry:
        """The memory with this id in whichever tier holds it, active or not."""
        for tier in TIER_ORDER:
            found = self.store(tier).get_many([memory_id], with_embedding).get(memory_id)
            if found is not None:
                return found
        raise MemoryNotFoundError(f"No memory has id {memory_id}; use recall to find the id of a memory.")

    def find_active(self, memory_id: UUID) -> MemoryEntry:
        entry = self.find(memory_id)
        if entry.status is MemoryStatus.SUPERSEDED:
            raise InvalidMemoryError(
                f"Memory {memory_id} was superseded by {entry.superseded_by}; act on that one instead."
            )
        if entry.status is not MemoryStatus.ACTIVE:
            raise InvalidMemoryError(f"Memory {memory_id} is {entry.status.value} and can no longer change.")
        return entry

    def find_by_hash(self, digest: str) -> MemoryEntry | None:
        """The active memory with this content hash, in whichever tier holds it."""
        for tier in TIER_ORDER:
            found = self.store(tier).find_by_hash(digest)
            if found is not None and found.status is MemoryStatus.ACTIVE:
                return found
        return None

    def iter_active(self, tiers: tuple[Tier, ...] = TIER_ORDER) -> Iterator[MemoryEntry]:
        for tier in tiers:
            for entry in self.store(tier).iter_entries():
                if entry.status is MemoryStatus.ACTIVE:
                    yield entry

    # writes ---------------------------------------------------------------------------------------

    def save(self, entry: MemoryEntry) -> None:
        """Write a changed memory back to its tier."""
        if not self.store(entry.tier).update(entry):
            raise MemoryNotFoundError(f"Memory {entry.id} changed tier while it was being updated; retry.")

    def refresh_confidence(self, entry: MemoryEntry, now: datetime) -> None:
        entry.confidence = conf.recompute(entry.confidence, entry.updated_at, now, self.options.half_life_days)

    def confirm(self, entry: MemoryEntry, now: datetime) -> None:
        """A confirmation refreshes a memory: recency restarts and a short-term one's TTL is renewed."""
        entry.updated_at = now
        if entry.tier is Tier.SHORT_TERM and entry.expires_at is not None:
            entry.expires_at = max(entry.expires_at, now + self.options.short_term_ttl)
        self.refresh_confidence(entry, now)

    def remember(self, request: NewMemory) -> RememberOutcome:
        """Store a new memory in short-term, or corroborate the identical one already known."""
        return self._remembering.remember(request)

    def remember_many(self, requests: list[NewMemory]) -> list[RememberOutcome]:
        """``remember`` each request, in order, as one batch (ingestion); see ``Remembering.remember_many``."""
        return self._remembering.remember_many(requests)

    def correct(self, memory_id: UUID, correction: str, reason: str | None = None) -> CorrectOutcome:
        """Replace a memory: the new one supersedes it and the old one leaves recall for good."""
        content = validate_content(correction, self.options.max_content_bytes)
        now = self.clock()
        vector = self.embedder.embed([content])[0]
        labels = self.classifier.classify(content, vector)
        with self._lock.hold():
            old = self.find_active(memory_id)
            new = MemoryEntry(
                content=content,
                tier=old.tier,
                memory_type=old.memory_type,
                truth_category=old.truth_category,
                confidence=Confidence(source_reliability=self.options.correction_reliability),
                embedding=vector.tolist(),
                tags=old.tags,
                domains=clean_labels([*old.domains, *labels.domains]),
                entities=labels.entities,  # the correction's own names: "Berlin", not the old "Lyon"
                related_memories=[old.id],
                contradicts=[old.id],
                supersedes=old.id,
                sources=[
                    MemorySource(
                        kind="correction",
                        reference=reason or f"correction of {old.id}",
                        timestamp=now,
                        reliability=self.options.correction_reliability,
                    )
                ],
                created_at=now,
                updated_at=now,
                last_accessed=now,
                validated=True,
                expires_at=old.expires_at and max(old.expires_at, now + self.options.short_term_ttl),
                tag_added_at=old.tag_added_at,
                history=[
                    MemoryEvent(kind=EventKind.CREATED, at=now, to_tier=old.tier, other=old.id, detail="correction")
                ],
            )
            self.refresh_confidence(new, now)
            old.status = MemoryStatus.SUPERSEDED
            old.superseded_by = new.id
            old.confidence.contradiction_count += 1
            old.contradicts = list(dict.fromkeys([*old.contradicts, new.id]))
            old.updated_at = now
            old.history.append(MemoryEvent(kind=EventKind.SUPERSEDED, at=now, other=new.id, detail=reason))
            self.refresh_confidence(old, now)
            expires_at = new.expires_at.timestamp() if new.expires_at else None
            if not self.store(new.tier).supersede(old, new, expires_at):  # one transaction: no half-done correction
                raise MemoryNotFoundError(f"Memory {old.id} changed tier while it was being corrected; retry.")
        return CorrectOutcome(old=old, new=new)

    def validate(self, memory_id: UUID) -> MemoryEntry:
        """The user confirms a memory: it counts as validated for promotion and is refreshed."""
        now = self.clock()
        with self._lock.hold():
            entry = self.find_active(memory_id)
            if not entry.validated:
                entry.validated = True
                entry.history.append(MemoryEvent(kind=EventKind.VALIDATED, at=now, detail="by the user"))
                self.confirm(entry, now)
                self.save(entry)
        return entry

    def writing(self) -> AbstractContextManager[None]:
        """Hold the data dir's write lock (re-entrant; one writer across processes)."""
        return self._lock.hold()

    def forget(self, memory_id: UUID) -> MemoryEntry:
        """Delete a memory from every tier."""
        with self._lock.hold():
            entry = self.find(memory_id)
            for tier in TIER_ORDER:
                self.store(tier).remove(memory_id)
        return entry

    def forget_all(self) -> int:
        """Delete every memory from every tier (``pmem forget --all``); return how many there were."""
        with self._lock.hold():
            return sum(self.store(tier).clear() for tier in TIER_ORDER)

    # recall ---------------------------------------------------------------------------------------

    def recall(self, query: RecallQuery, touch: bool = True) -> list[RecallHit]:
        text = query.text.strip()
        if not text:
            raise InvalidMemoryError("The recall query is empty; say what to look for.")
        validate_content(text, self.options.max_content_bytes)
        tiers = [t for t in TIER_ORDER if query.tiers is None or t in query.tiers]
        fetch = max(query.limit * 4, CONTEXT_FETCH)
        # Full-text search needs no vector: it runs beside the query's embedding and vector search
        # (both release the GIL), which takes its few milliseconds off recall's time.
        words = lexical_query(text)
        lexical_future = self._searches().submit(lambda: {t: self.store(t).text_search(words, fetch) for t in tiers})
        vector: np.ndarray = self.embedder.embed([text])[0]
        dense = {t: self.store(t).dense_search(vector, fetch) for t in tiers}
        lexical = lexical_future.result()
        filtered = bool(query.domains or query.memory_types or query.min_confidence > 0)
        pool = self.context.rerank(text, fuse(dense, lexical), self._attach, whole=filtered)
        hits = self._rank(pool, query)
        if touch and hits:
            self.touch([h.entry.id for h in hits])
        return hits

    def _searches(self) -> ThreadPoolExecutor:
        with self._searcher_lock:
            if self._searcher is None:
                self._searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pmem-text-search")
            return self._searcher

    def _attach(self, candidates: list[Candidate]) -> None:
        """Load each candidate's record onto it (None when it is gone)."""
        by_tier: dict[Tier, list[Candidate]] = {}
        for cand in candidates:
            by_tier.setdefault(cand.tier, []).append(cand)
        for tier, cands in by_tier.items():
            found = self.store(tier).get_many([c.memory_id for c in cands])
            for cand in cands:
                cand.entry = found.get(cand.memory_id)

    def _rank(self, candidates: list[Candidate], query: RecallQuery) -> list[RecallHit]:
        wanted_domains = set(clean_labels(query.domains or []))
        hits: list[RecallHit] = []
        for cand in candidates:
            entry = cand.entry
            if entry is None or entry.status is not MemoryStatus.ACTIVE:
                continue
            if query.memory_types and entry.memory_type not in query.memory_types:
                continue
            if wanted_domains and not wanted_domains.intersection(entry.domains):
                continue
            if entry.confidence.overall < query.min_confidence:
                continue
            hits.append(RecallHit(entry=entry, score=round(final_score(cand, entry), 6), relevance=cand.relevance))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[: query.limit]

    def touch(self, memory_ids: list[UUID]) -> None:
        """Count one access to each memory (those that were actually used), written within
        ``options.access_write_delay`` seconds; unknown ids are skipped."""
        self._accesses.record(memory_ids, self.clock())

    def flush_accesses(self) -> None:
        """Write the access counts still pending now."""
        self._accesses.flush()

    def _write_accesses(self, counts: Counter[UUID], now: datetime) -> None:
        with self._lock.hold():
            for tier in TIER_ORDER:
                store = self.store(tier)
                entries = list(store.get_many(list(counts)).values())
                for entry in entries:
                    entry.access_count += counts[entry.id]
                    entry.last_accessed = max(entry.last_accessed, now)
                store.update_many(entries)

    # reporting ------------------------------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for tier in TIER_ORDER:
            store = self.store(tier)
            out[tier.value] = {status.value: store.count(status.value) for status in MemoryStatus}
        return out
