"""The short-term tier on a real redis-server: round trip, TTL as Redis expiry, restarts, refusals."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from uuid import UUID

import anyio
import anyio.to_thread
import numpy as np
import pytest
import redis
from pydantic import ValidationError

from personal_memory.config import load_settings
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.errors import StoreMismatchError
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryEntry, MemoryStatus, Tier
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery, ServiceOptions
from personal_memory.pms.stores.redis_tier import RedisTierStore
from tests.clock import MovableClock
from tests.reliability.redis_harness import RedisServer, needs_redis, running_redis

pytestmark = [needs_redis, pytest.mark.anyio]


def _service(home: Path, url: str, ttl: timedelta = timedelta(hours=48)) -> MemoryService:
    return MemoryService(DataPaths(home), HashEmbedder(), ServiceOptions(short_term_ttl=ttl, short_term_redis_url=url))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path)


@pytest.fixture
def service(tmp_path: Path, redis_server: RedisServer) -> Iterator[MemoryService]:
    opened = _service(tmp_path / "home", redis_server.url)
    yield opened
    opened.close()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await anyio.sleep(0.02)


def test_memories_round_trip_through_redis_with_search_correction_and_forget(service: MemoryService) -> None:
    lyon = service.remember(NewMemory(content="I live in Lyon, France", tags=["home"])).entry
    peanuts = service.remember(NewMemory(content="I am allergic to peanuts")).entry
    again = service.remember(NewMemory(content="i live in LYON, france"))
    assert not again.created and again.entry.id == lyon.id and again.entry.confidence.corroboration_count == 1

    store = service.store(Tier.SHORT_TERM)
    assert isinstance(store, RedisTierStore)
    assert store.get_many([lyon.id], with_embedding=True)[lyon.id].embedding == pytest.approx(lyon.embedding)
    assert [h.entry.id for h in service.recall(RecallQuery(text="lyon france", limit=1))] == [lyon.id]
    assert [i for i, _ in store.text_search('peanuts OR NEAR("', 5)] == [peanuts.id]  # words only, no syntax

    berlin = service.correct(lyon.id, "I live in Berlin, Germany", reason="moved").new
    assert service.find(lyon.id).status is MemoryStatus.SUPERSEDED
    assert [h.entry.id for h in service.recall(RecallQuery(text="where do I live", limit=1))] == [berlin.id]
    assert store.count("active") == 2 and store.count("superseded") == 1

    service.forget(berlin.id)
    assert berlin.id not in store.get_many([berlin.id]) and store.count() == 2
    assert sorted(e.content for e in store.iter_entries()) == ["I am allergic to peanuts", "I live in Lyon, France"]

    batch = [MemoryEntry(content=t, embedding=service.embedder.embed([t])[0].tolist()) for t in ("tea", "cats")]
    store.add_many(batch)
    found = store.dense_search_many(np.asarray([batch[0].embedding, batch[1].embedding]), 1)
    assert [hits[0][0] for hits in found] == [batch[0].id, batch[1].id]
    batch[0].tags = ["drinks"]
    assert store.update_many([batch[0], berlin]) == 1  # the forgotten one is not written back
    assert store.get_many([batch[0].id])[batch[0].id].tags == ["drinks"] and berlin.id not in store.get_many(
        [berlin.id]
    )
    assert store.clear() == 4 and store.count() == 0 and list(store.iter_entries()) == []


async def test_a_short_term_memory_leaves_redis_when_its_ttl_ends_unless_renewed(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    clock = MovableClock(datetime.now(UTC))
    service = _service(tmp_path / "home", redis_server.url, ttl=timedelta(seconds=1.5))
    service.clock = clock
    client = redis.Redis.from_url(redis_server.url)
    try:
        fleeting = service.remember(NewMemory(content="I am in Paris this week")).entry
        renewed = service.remember(NewMemory(content="I am reading Dune")).entry
        assert 0 < client.pttl(f"pmem:short_term:m:{fleeting.id}") <= 1500
        clock.advance(seconds=1)
        service.remember(NewMemory(content="I am reading Dune"))  # a corroboration renews the TTL
        assert client.pttl(f"pmem:short_term:m:{renewed.id}") > 1500

        store = service.store(Tier.SHORT_TERM)
        with anyio.fail_after(5):
            await _until(lambda: fleeting.id not in store.get_many([fleeting.id]))
        assert renewed.id in store.get_many([renewed.id])
        assert [e.id for e in store.iter_entries()] == [renewed.id]
        assert store.dense_search(service.embedder.embed(["I am in Paris this week"])[0], 5)[0][0] == renewed.id
        assert client.smembers("pmem:short_term:ids") == {str(renewed.id).encode()}  # the expired id was dropped
    finally:
        client.close()
        service.close()


async def test_a_redis_killed_and_restarted_mid_stream_loses_no_acknowledged_memory(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    service = _service(tmp_path / "home", redis_server.url)
    acked: list[tuple[UUID, str]] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            text = f"memory number {len(acked)} written while Redis restarts"
            acked.append((service.remember(NewMemory(content=text)).entry.id, text))

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(partial(anyio.to_thread.run_sync, write))
                await _until(lambda: len(acked) >= 30)
                redis_server.kill()  # SIGKILL: no shutdown, no final fsync
                redis_server.start()
                restarted_at = len(acked)
                await _until(lambda: len(acked) >= restarted_at + 20)
                stop.set()
    finally:
        stop.set()
        service.close()

    reopened = _service(tmp_path / "home", redis_server.url)
    try:
        found = reopened.store(Tier.SHORT_TERM).get_many([memory_id for memory_id, _ in acked])
        assert {i: e.content for i, e in found.items()} == dict(acked)
        copies = Counter(e.content for e in reopened.store(Tier.SHORT_TERM).iter_entries())
        assert set(copies.values()) == {1}
    finally:
        reopened.close()


def test_a_redis_tier_written_by_a_newer_pmem_or_another_embedder_is_refused(redis_server: RedisServer) -> None:
    identity = HashEmbedder().identity
    RedisTierStore(Tier.SHORT_TERM, redis_server.url, identity).close()
    with pytest.raises(StoreMismatchError, match="vector spaces never mix"):
        RedisTierStore(Tier.SHORT_TERM, redis_server.url, "onnx:all-MiniLM-L6-v2:384")
    client = redis.Redis.from_url(redis_server.url)
    client.hset("pmem:short_term:meta", "schema_version", "99")
    client.close()
    with pytest.raises(StoreMismatchError, match="schema version 99.*upgrade personal-memory"):
        RedisTierStore(Tier.SHORT_TERM, redis_server.url, identity)


def test_the_redis_backend_is_chosen_by_settings_and_needs_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_SHORT_TERM_BACKEND", "redis")
    with pytest.raises(ValidationError, match="needs redis_url"):
        load_settings()
    monkeypatch.setenv("PMEM_REDIS_URL", "redis://10.0.0.2:6379/3")
    assert load_settings().service_options().short_term_redis_url == "redis://10.0.0.2:6379/3"
    monkeypatch.setenv("PMEM_SHORT_TERM_BACKEND", "sqlite")
    assert load_settings().service_options().short_term_redis_url is None
