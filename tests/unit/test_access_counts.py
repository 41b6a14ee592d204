"""Access counts are written off recall's path: later, together, and never lost on close."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from uuid import UUID, uuid4

import anyio
from mcp import Client

from personal_memory.config import load_settings
from personal_memory.pms.access import AccessRecorder
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery
from personal_memory.pms.service_models import ServiceOptions
from personal_memory.server.app import build_server


def _service(home: Path, delay: float) -> MemoryService:
    return MemoryService(DataPaths(home), HashEmbedder(), ServiceOptions(access_write_delay=delay))


def test_recalls_are_counted_together_after_the_delay(tmp_path: Path) -> None:
    service = _service(tmp_path, delay=0.3)
    try:
        memory_id = service.remember(NewMemory("My cat is called Miso")).entry.id
        for _ in range(3):
            service.recall(RecallQuery("cat Miso"))
        assert service.find(memory_id).access_count == 0  # not yet: recall did not wait for a write
        deadline = time.monotonic() + 10
        while service.find(memory_id).access_count == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        entry = service.find(memory_id)
        assert entry.access_count == 3
        assert entry.last_accessed > entry.created_at
    finally:
        service.close()


def test_close_writes_pending_counts(tmp_path: Path) -> None:
    service = _service(tmp_path, delay=3600)
    memory_id = service.remember(NewMemory("I run on Sunday mornings")).entry.id
    service.recall(RecallQuery("running Sunday"))
    service.close()
    reopened = _service(tmp_path, delay=3600)
    try:
        assert reopened.find(memory_id).access_count == 1
    finally:
        reopened.close()


def test_no_delay_writes_at_once_and_forgotten_ids_are_skipped(tmp_path: Path) -> None:
    service = _service(tmp_path, delay=0)
    try:
        kept = service.remember(NewMemory("I like green tea")).entry.id
        gone = service.remember(NewMemory("I like black tea")).entry.id
        service.forget(gone)
        service.touch([kept, gone])
        assert service.find(kept).access_count == 1
    finally:
        service.close()


def test_a_flush_waits_for_the_background_write_in_flight() -> None:
    started, written = threading.Event(), []

    def slow_write(counts: Counter[UUID], now: datetime) -> None:
        started.set()
        time.sleep(0.3)
        written.append(sum(counts.values()))

    recorder = AccessRecorder(slow_write, delay=0.01)
    recorder.record([uuid4(), uuid4()], datetime.now())
    assert started.wait(5)  # the timer took the pending counts and is writing them
    recorder.flush()  # as close does: it must not return (and let the store close) under a write
    assert written == [2]


def test_a_server_session_that_ends_writes_its_pending_counts(isolated_home: Path) -> None:
    async def session() -> str:
        async with Client(build_server(load_settings(embedder="hash"), warm_up=False)) as client:
            out = await client.call_tool("remember", {"content": "My sister Ana lives in Porto"})
            await client.call_tool("recall", {"query": "Where does Ana live?"})
            return out.structured_content["id"]  # type: ignore[index]

    memory_id = anyio.run(session)
    service = MemoryService(DataPaths(isolated_home), HashEmbedder(), ServiceOptions(access_write_delay=3600))
    try:
        assert service.find(UUID(memory_id)).access_count == 1  # written at the session's end, not a second later
    finally:
        service.close()
