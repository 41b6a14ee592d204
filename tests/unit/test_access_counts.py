"""Access counts are written off recall's path: later, together, and never lost on close."""

from __future__ import annotations

import time
from pathlib import Path

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery
from personal_memory.pms.service_models import ServiceOptions


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
