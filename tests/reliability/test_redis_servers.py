"""Two real ``pmem serve`` processes, as on two machines (two data dirs), sharing one Redis short-term tier."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import anyio
import pytest
from mcp import ClientSession

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import Tier
from personal_memory.pms.service import MemoryService, ServiceOptions
from tests.e2e.mcp_helpers import call, stdio_session
from tests.reliability.redis_harness import RedisServer, needs_redis, running_redis

pytestmark = [needs_redis, pytest.mark.anyio]

WRITES = 12


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path)


def _machine(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    return env | {
        "PMEM_HOME": str(home),
        "PMEM_EMBEDDER": "hash",
        "PMEM_SHORT_TERM_BACKEND": "redis",
        "PMEM_REDIS_URL": url,
        "PMEM_PROMOTION_INTERVAL_MINUTES": "0",
    }


async def _write(session: ClientSession, name: str, ids: list[str]) -> None:
    for n in range(WRITES):
        stored = await call(session, "remember", content=f"note {n} written on the {name} machine")
        ids.append(stored["id"])


async def test_two_servers_on_two_machines_share_one_redis_short_term_tier(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    laptop_env, desktop_env = (_machine(tmp_path / name, redis_server.url) for name in ("laptop", "desktop"))
    written: dict[str, list[str]] = {"laptop": [], "desktop": []}
    with anyio.fail_after(120):
        async with stdio_session(laptop_env) as laptop, stdio_session(desktop_env) as desktop:
            peanuts = await call(laptop, "remember", content="I am allergic to peanuts")
            found = await call(desktop, "recall", query="peanuts allergy", limit=1)
            assert [m["id"] for m in found["memories"]] == [peanuts["id"]]
            again = await call(desktop, "remember", content="I am allergic to peanuts")
            assert again["status"] == "corroborated" and again["id"] == peanuts["id"]

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_write, laptop, "laptop", written["laptop"])
                tasks.start_soon(_write, desktop, "desktop", written["desktop"])
            seen = await call(laptop, "recall", query="note written on the desktop machine", limit=50)
            assert set(written["desktop"]) <= {m["id"] for m in seen["memories"]}

            await call(desktop, "forget", memory_id=peanuts["id"])
            after = await call(laptop, "recall", query="peanuts allergy", limit=5)
            assert peanuts["id"] not in [m["id"] for m in after["memories"]]

    service = MemoryService(
        DataPaths(tmp_path / "third"), HashEmbedder(), ServiceOptions(short_term_redis_url=redis_server.url)
    )
    try:
        entries = list(service.store(Tier.SHORT_TERM).iter_entries())
    finally:
        service.close()
    acked = [UUID(i) for ids in written.values() for i in ids]
    assert len(set(acked)) == 2 * WRITES
    assert Counter(e.id for e in entries) == Counter(acked)  # every acknowledged write once, the forgotten one gone
