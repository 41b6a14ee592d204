"""The short-term tier on Redis, so server processes on several machines share one session tier.

Keys, under a prefix (default ``pmem:short_term``):

- ``P:meta``: hash of ``schema_version`` and ``embedding`` (the vector space; spaces never mix);
- ``P:m:ID``: hash of one memory: ``entry`` (JSON without the embedding), ``embedding`` (float32
  bytes), ``status``, ``content``, ``content_hash``, ``expires_at`` (POSIX seconds, or empty);
- ``P:ids``: set of the ids (an id whose record expired is dropped lazily);
- ``P:version``: bumped by every write, so each process knows when to reload its search cache.

A memory's TTL is its key's Redis expiration: Redis deletes a short-term memory that was not
promoted or renewed (corroborated, validated) by then. Each write is one MULTI/EXEC transaction, or
one Lua script where it is conditional, so it is all or nothing in the append-only file too.

Durability is Redis's: run it with ``appendonly yes`` and ``appendfsync always``, and an acknowledged
write is on disk before the reply comes; the store logs a warning at open when the server says
otherwise. Search runs in this process over the (small) short-term set: exact cosine over a numpy
matrix and BM25 over word tokens, reloaded when the version changes and filtered by expiry at query time.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np

from personal_memory.pms.errors import StoreMismatchError
from personal_memory.pms.migrations import refuse_newer
from personal_memory.pms.ports import ScoredId
from personal_memory.pms.schema import MemoryEntry, MemoryStatus, Tier

if TYPE_CHECKING:
    import redis
    import redis.client

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RETRIES = 12
_WORD = re.compile(r"\w+", re.UNICODE)
_BM25_K1, _BM25_B = 1.2, 0.75
_FIELDS = (b"status", b"content_hash", b"expires_at", b"content", b"embedding")

# KEYS: old record, new record, ids set, version. ARGV: old status, old entry, new id, expire ms ("" for none),
# then the new record's field/value pairs. Nothing is written when the old record is gone.
_SUPERSEDE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'entry', ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
if ARGV[4] ~= '' then redis.call('PEXPIREAT', KEYS[2], ARGV[4]) end
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('INCR', KEYS[4])
return 1
"""

# KEYS: version, then one record per entry. ARGV: per entry, status, entry, expires_at (seconds, "" for none),
# expire ms ("" for none). A record no longer there is not written back; returns how many were updated.
_UPDATE = """
local done = 0
for i = 2, #KEYS do
    local a = (i - 2) * 4
    if redis.call('EXISTS', KEYS[i]) == 1 then
        redis.call('HSET', KEYS[i], 'status', ARGV[a + 1], 'entry', ARGV[a + 2], 'expires_at', ARGV[a + 3])
        if ARGV[a + 4] ~= '' then redis.call('PEXPIREAT', KEYS[i], ARGV[a + 4]) else redis.call('PERSIST', KEYS[i]) end
        done = done + 1
    end
end
if done > 0 then redis.call('INCR', KEYS[1]) end
return done
"""


def _expiry(expires_at: float | None) -> tuple[str, str]:
    """``expires_at`` as stored (POSIX seconds) and as PEXPIREAT takes it (ms); empty strings for none."""
    if expires_at is None:
        return "", ""
    return repr(expires_at), str(int(expires_at * 1000))


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1 or w.isdigit()]


@dataclass(slots=True)
class _Snapshot:
    """Every record's search fields as of one version of the store."""

    version: bytes | None = None
    ids: list[UUID] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    expires: np.ndarray = field(default_factory=lambda: np.zeros(0))
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    terms: list[Counter[str]] = field(default_factory=list)

    def live(self, now: float) -> np.ndarray:
        """Positions of the records that are active and not past their TTL."""
        active = np.array([s == MemoryStatus.ACTIVE.value for s in self.status], dtype=bool)
        return np.flatnonzero(active & (self.expires > now))


class RedisTierStore:
    def __init__(self, tier: Tier, url: str, embedding_identity: str, prefix: str | None = None) -> None:
        import redis
        from redis.backoff import ExponentialWithJitterBackoff
        from redis.retry import Retry

        self.tier = tier
        # A call rides out a Redis restart: it retries for about 15 s before the error reaches the caller.
        retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=2.0), retries=RETRIES)
        self._redis: redis.Redis = redis.Redis.from_url(url, socket_connect_timeout=5, retry=retry)
        kwargs = self._redis.connection_pool.connection_kwargs
        self._where = f"Redis at {kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
        self._prefix = prefix or f"pmem:{tier.value}"
        self._supersede = self._redis.register_script(_SUPERSEDE)
        self._update = self._redis.register_script(_UPDATE)
        self._lock = threading.Lock()
        self._snapshot = _Snapshot()
        self._check_meta(embedding_identity)
        self._check_durability()

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    def _check_meta(self, identity: str) -> None:
        meta = self._key("meta")
        self._redis.hsetnx(meta, "schema_version", str(SCHEMA_VERSION))
        self._redis.hsetnx(meta, "embedding", identity)
        version, stored = self._redis.hmget(meta, ["schema_version", "embedding"])
        refuse_newer(int(version or 0), SCHEMA_VERSION, f"The short-term tier in {self._where}")
        if stored is not None and stored.decode() != identity:
            raise StoreMismatchError(
                f"The short-term tier in {self._where} holds vectors of {stored.decode()!r} but the configured "
                f"embedder is {identity!r}; vector spaces never mix. Configure the original embedder on every "
                "machine, or point PMEM_REDIS_URL at an empty database."
            )

    def _check_durability(self) -> None:
        import redis

        try:
            config = self._redis.config_get("append*")
        except redis.ResponseError:  # CONFIG may be disabled on a managed server; nothing to check then
            return
        if config.get("appendonly") != "yes" or config.get("appendfsync") != "always":
            logger.warning(
                "%s runs without 'appendonly yes' and 'appendfsync always': a memory it acknowledged can be lost "
                "if Redis stops. Set both in redis.conf for the short-term tier's durability promise.",
                self._where,
            )

    # writes ---------------------------------------------------------------------------------------

    @staticmethod
    def _fields(entry: MemoryEntry, expires_at: float | None) -> dict[str, bytes | str]:
        return {
            "entry": entry.without_embedding().model_dump_json(),
            "embedding": np.asarray(entry.embedding, dtype=np.float32).tobytes(),
            "status": entry.status.value,
            "content": entry.content,
            "content_hash": entry.content_hash,
            "expires_at": _expiry(expires_at)[0],
        }

    def _queue_add(self, pipe: redis.client.Pipeline, entry: MemoryEntry, expires_at: float | None) -> None:
        key = self._key("m", str(entry.id))
        pipe.delete(key)
        pipe.hset(key, mapping=self._fields(entry, expires_at))
        if expires_at is not None:
            pipe.pexpireat(key, int(expires_at * 1000))
        pipe.sadd(self._key("ids"), str(entry.id))

    def add(self, entry: MemoryEntry, expires_at: float | None = None) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            self._queue_add(pipe, entry, expires_at)
            pipe.incr(self._key("version"))
            pipe.execute()

    def add_many(self, entries: list[MemoryEntry]) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            for entry in entries:
                self._queue_add(pipe, entry, entry.expires_at.timestamp() if entry.expires_at else None)
            pipe.incr(self._key("version"))
            pipe.execute()

    def supersede(self, old: MemoryEntry, new: MemoryEntry, expires_at: float | None = None) -> bool:
        flat = [part for pair in self._fields(new, expires_at).items() for part in pair]
        done = self._supersede(
            keys=[self._key("m", str(old.id)), self._key("m", str(new.id)), self._key("ids"), self._key("version")],
            args=[
                old.status.value,
                old.without_embedding().model_dump_json(),
                str(new.id),
                _expiry(expires_at)[1],
                *flat,
            ],
        )
        return bool(done)

    def update(self, entry: MemoryEntry) -> bool:
        """Rewrite the metadata; the key's expiration follows ``entry.expires_at`` (a renewed TTL)."""
        return self.update_many([entry]) == 1

    def update_many(self, entries: list[MemoryEntry]) -> int:
        args: list[str] = []
        for entry in entries:
            seconds, millis = _expiry(entry.expires_at.timestamp() if entry.expires_at else None)
            args += [entry.status.value, entry.without_embedding().model_dump_json(), seconds, millis]
        keys = [self._key("version"), *(self._key("m", str(e.id)) for e in entries)]
        return int(self._update(keys=keys, args=args)) if entries else 0

    def remove(self, memory_id: UUID) -> bool:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key("m", str(memory_id)))
            pipe.srem(self._key("ids"), str(memory_id))
            pipe.incr(self._key("version"))
            deleted, _, _ = pipe.execute()
        if deleted:
            self._compact()
        return bool(deleted)

    def clear(self) -> int:
        keys = [self._key("m", str(i)) for i in self._all_ids()]
        with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.delete(key)
            pipe.delete(self._key("ids"))
            pipe.incr(self._key("version"))
            count = sum(pipe.execute()[: len(keys)])
        self._compact()
        return count

    def _compact(self) -> None:
        """Rewrite the append-only file, so the text of deleted memories leaves Redis's disk too."""
        import redis

        try:
            self._redis.bgrewriteaof()
        except redis.ResponseError as exc:  # one is already running, or AOF is off: nothing more to do
            logger.info("Redis did not start an AOF rewrite: %s", exc)

    # reads ----------------------------------------------------------------------------------------

    def _all_ids(self) -> list[UUID]:
        return sorted(UUID(raw.decode()) for raw in self._redis.smembers(self._key("ids")))

    def _load(self) -> _Snapshot:
        """The snapshot for the store's current version, reloaded only when another write happened."""
        version = self._redis.get(self._key("version"))
        with self._lock:
            if version is not None and version == self._snapshot.version:
                return self._snapshot
        ids = self._all_ids()
        with self._redis.pipeline(transaction=False) as pipe:
            for memory_id in ids:
                pipe.hmget(self._key("m", str(memory_id)), list(_FIELDS))
            rows = pipe.execute()
        snap = _Snapshot(version=version)
        vectors: list[np.ndarray] = []
        expiries: list[float] = []
        gone: list[str] = []
        for memory_id, (status, digest, expires, content, embedding) in zip(ids, rows, strict=True):
            if status is None:  # expired or removed since the id was listed
                gone.append(str(memory_id))
                continue
            snap.ids.append(memory_id)
            snap.status.append(status.decode())
            snap.hashes.append(digest.decode())
            snap.terms.append(Counter(_words(content.decode())))
            vectors.append(np.frombuffer(embedding, dtype=np.float32))
            expiries.append(float(expires) if expires else math.inf)
        if gone:
            self._redis.srem(self._key("ids"), *gone)
        snap.expires = np.asarray(expiries, dtype=np.float64)
        if vectors:
            snap.matrix = np.vstack(vectors)
        with self._lock:
            self._snapshot = snap
        return snap

    def get_many(self, ids: list[UUID], with_embedding: bool = False) -> dict[UUID, MemoryEntry]:
        with self._redis.pipeline(transaction=False) as pipe:
            for memory_id in ids:
                pipe.hmget(self._key("m", str(memory_id)), ["entry", "embedding"])
            rows = pipe.execute() if ids else []
        out: dict[UUID, MemoryEntry] = {}
        for raw_entry, raw_vector in rows:
            if raw_entry is None:
                continue
            entry = MemoryEntry.model_validate_json(raw_entry)
            if with_embedding:
                entry.embedding = np.frombuffer(raw_vector, dtype=np.float32).tolist()
            out[entry.id] = entry
        return out

    def find_by_hash(self, content_hash: str) -> MemoryEntry | None:
        snap = self._load()
        rows = zip(snap.ids, snap.status, snap.hashes, strict=True)
        matches = sorted((status != MemoryStatus.ACTIVE.value, i) for i, status, h in rows if h == content_hash)
        for _, memory_id in matches:  # an active one first
            found = self.get_many([memory_id]).get(memory_id)
            if found is not None:
                return found
        return None

    def dense_search(self, vector: np.ndarray, limit: int) -> list[ScoredId]:
        return self.dense_search_many(vector[None, :], limit)[0]

    def dense_search_many(self, vectors: np.ndarray, limit: int) -> list[list[ScoredId]]:
        snap = self._load()
        live = snap.live(time.time())
        if not live.size:
            return [[] for _ in range(len(vectors))]
        scores = vectors.astype(np.float32) @ snap.matrix[live].T
        return [[(snap.ids[live[i]], float(row[i])) for i in np.argsort(-row)[:limit]] for row in scores]

    def text_search(self, query: str, limit: int) -> list[ScoredId]:
        """BM25 over the live records' word tokens (no query syntax: words only)."""
        words = list(dict.fromkeys(_words(query)))
        snap = self._load()
        live = snap.live(time.time())
        if not words or not live.size:
            return []
        docs = [snap.terms[i] for i in live]
        mean_len = sum(sum(d.values()) for d in docs) / len(docs) or 1.0
        idf = {w: math.log(1 + (len(docs) - (df := sum(w in d for d in docs)) + 0.5) / (df + 0.5)) for w in words}
        scored: list[ScoredId] = []
        for position, doc in zip(live, docs, strict=True):
            norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * sum(doc.values()) / mean_len)
            score = sum(idf[w] * doc[w] * (_BM25_K1 + 1) / (doc[w] + norm) for w in words if doc[w])
            if score > 0:
                scored.append((snap.ids[position], score))
        scored.sort(key=lambda hit: hit[1], reverse=True)
        return scored[:limit]

    def count(self, status: str | None = None) -> int:
        snap = self._load()
        return sum(1 for s in snap.status if status is None or s == status)

    def iter_entries(self) -> Iterator[MemoryEntry]:
        ids = self._load().ids
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found = self.get_many(chunk)
            yield from (found[i] for i in chunk if i in found)

    def expired_ids(self, now_ts: float) -> list[UUID]:
        snap = self._load()
        return [snap.ids[i] for i in np.flatnonzero(snap.expires <= now_ts)]

    def close(self) -> None:
        self._redis.close()
