"""Load: N concurrent MCP clients, each with its own real ``pmem serve`` over stdio, on one data dir.

Each client runs a mix of remember and recall for a bounded time. At the end every memory a client
was told was stored is looked up in the store: a missing one is a lost write.

    .venv/bin/python bench/load.py [--clients 4] [--seconds 30] [--recall-share 0.5] [--embedder onnx|hash]

Prints throughput, p50/p95/p99 per operation, errors and lost writes; writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, write_results  # noqa: E402 - bench scripts run from a checkout

SUBJECTS = ["my sister", "my manager", "our dog", "my doctor", "the neighbours", "my running club", "my landlord"]
VERBS = ["prefers", "mentioned", "asked about", "recommended", "is worried about", "booked", "cancelled"]
OBJECTS = ["the Lyon trip", "a vegetarian dinner", "the quarterly report", "piano lessons", "a dentist visit",
           "the marathon in April", "new hiking boots", "the rent increase"]  # fmt: skip
QUERIES = ["what did my sister recommend", "anything about the marathon", "who asked about the report",
           "what is planned for dinner", "dentist", "what did the landlord say about rent"]  # fmt: skip


@dataclass
class ClientLog:
    """What one client saw: latencies per operation, errors, and the ids it was told were stored."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"remember": [], "recall": []})
    errors: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)


def _statement(rng: random.Random, client: int, n: int) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} (client {client}, note {n})"


async def _call(session: ClientSession, tool: str, arguments: dict[str, Any], log: ClientLog) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        result = await session.call_tool(tool, arguments)
    except Exception as exc:  # a transport failure counts as an error of the run, not a crash of the bench
        log.errors.append(f"{tool}: {exc!r}")
        return {}
    log.latencies[tool].append(time.perf_counter() - start)
    if result.is_error or result.structured_content is None:
        log.errors.append(f"{tool}: {' '.join(getattr(c, 'text', '') for c in result.content)[:200]}")
        return {}
    return result.structured_content


async def _client(session: ClientSession, index: int, deadline: float, recall_share: float, log: ClientLog) -> None:
    rng = random.Random(index)
    n = 0
    while time.perf_counter() < deadline:
        if rng.random() < recall_share:
            await _call(session, "recall", {"query": rng.choice(QUERIES), "limit": 5}, log)
        else:
            out = await _call(session, "remember", {"content": _statement(rng, index, n)}, log)
            if out.get("id"):
                log.acked.append(out["id"])
            n += 1


async def run_load(
    env: dict[str, str], clients: int, seconds: float, recall_share: float
) -> tuple[list[ClientLog], float]:
    """Start ``clients`` servers, then let every client work for ``seconds``; returns the logs and start-up time."""
    params = StdioServerParameters(command=str(Path(sys.executable).parent / "pmem"), args=["serve"], env=env)
    logs = [ClientLog() for _ in range(clients)]
    async with AsyncExitStack() as stack:
        started = time.perf_counter()
        sessions: list[ClientSession] = []
        for _ in range(clients):
            read, write = await stack.enter_async_context(stdio_client(params))
            session = await stack.enter_async_context(ClientSession(read, write))
            sessions.append(session)
        async with anyio.create_task_group() as tasks:
            for session in sessions:
                tasks.start_soon(session.initialize)
        startup = time.perf_counter() - started
        deadline = time.perf_counter() + seconds
        async with anyio.create_task_group() as tasks:
            for index, (session, log) in enumerate(zip(sessions, logs, strict=True)):
                tasks.start_soon(_client, session, index, deadline, recall_share, log)
    return logs, startup


def lost_writes(home: Path, embedder: str, embedder_cache: Path, acked: list[str]) -> tuple[int, int]:
    """How many acknowledged memories are missing from the store, and how many are stored twice."""
    from personal_memory.config import load_settings
    from personal_memory.container import build_service
    from personal_memory.pms.service import TIER_ORDER

    service = build_service(load_settings(home=home, embedder=embedder, embedder_cache=embedder_cache))
    try:
        wanted = [UUID(i) for i in set(acked)]
        found = {i for tier in TIER_ORDER for i in service.store(tier).get_many(wanted)}
        contents = [e.content for tier in TIER_ORDER for e in service.store(tier).iter_entries()]
    finally:
        service.close()
    return len(set(wanted) - found), len(contents) - len(set(contents))


def summarise(logs: list[ClientLog], seconds: float, startup: float, lost: int, doubled: int) -> dict[str, Any]:
    ops = {kind: [s for log in logs for s in log.latencies[kind]] for kind in ("remember", "recall")}
    every = ops["remember"] + ops["recall"]
    errors = [e for log in logs for e in log.errors]
    return {
        "clients": len(logs),
        "seconds": seconds,
        "startup_s": round(startup, 2),
        "operations": len(every),
        "throughput_ops_s": round(len(every) / seconds, 1),
        "latency_ms": {kind: {k: round(v, 1) for k, v in percentiles(s).items()} for kind, s in ops.items() if s}
        | ({"all": {k: round(v, 1) for k, v in percentiles(every).items()}} if every else {}),
        "counts": {kind: len(s) for kind, s in ops.items()},
        "errors": len(errors),
        "error_samples": errors[:5],
        "acknowledged_writes": sum(len(log.acked) for log in logs),
        "lost_writes": lost,
        "duplicated_writes": doubled,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--recall-share", type=float, default=0.5, help="Share of operations that are recalls")
    parser.add_argument("--embedder", choices=["onnx", "hash"], default="onnx")
    parser.add_argument("--embedder-cache", type=Path, default=Path.home() / ".pmem" / "models" / "embedder")
    parser.add_argument("--home", type=Path, help="Data dir to load (default: a fresh temp dir)")
    parser.add_argument("--save", action=argparse.BooleanOptionalAction, default=True, help="Write load.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp) / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")} | {
            "PMEM_HOME": str(home),
            "PMEM_EMBEDDER": args.embedder,
            "PMEM_EMBEDDER_CACHE": str(args.embedder_cache),
        }
        logs, startup = anyio.run(run_load, env, args.clients, args.seconds, args.recall_share)
        lost, doubled = lost_writes(home, args.embedder, args.embedder_cache, [i for log in logs for i in log.acked])
    result = summarise(logs, args.seconds, startup, lost, doubled) | {"embedder": args.embedder}
    print(json.dumps(result, indent=2))
    if args.save:
        write_results("load", result)
    return result


if __name__ == "__main__":
    main()
