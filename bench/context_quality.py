"""Context quality bench: does the context for a query hold the memories it should, and little else?

A person with a couple of hundred memories across the three tiers and many domains
(``bench/data/persona.json``), and realistic queries, each with the memories a good context must
contain. For every query the bench builds the context the ``profile`` tool serves (Claude format,
default budget and top N) with the real MiniLM model, then prints recall (expected memories present),
precision (present memories that were expected) and the latency of building it, p50/p95.

    python bench/context_quality.py [--embedder-cache DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from personal_memory.context.profile import personal_context
from personal_memory.pms import confidence as conf
from personal_memory.pms.embedding import build_embedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import Confidence, MemoryEntry, MemoryType, Tier
from personal_memory.pms.service import MemoryService

DATA = Path(__file__).parent / "data" / "persona.json"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
# Long-lived tiers hold memories that were confirmed on the way up (SEED.md's promotion rules).
CORROBORATIONS = {Tier.SHORT_TERM: 0, Tier.LONG_TERM: 2, Tier.PERSISTENT: 4}


@dataclass(frozen=True, slots=True)
class CaseResult:
    query: str
    recall: float
    precision: float
    seconds: float
    missed: list[str]
    extra: list[str]


def load(service: MemoryService, memories: list[dict[str, object]]) -> dict[str, str]:
    """Store every memory in its tier, aged as the data says; return key -> memory id."""
    vectors = service.embedder.embed([str(m["content"]) for m in memories])
    ids: dict[str, str] = {}
    for memory, vector in zip(memories, vectors, strict=True):
        tier = Tier(str(memory["tier"]))
        created = NOW - timedelta(days=float(memory["age_days"]))  # type: ignore[arg-type]
        confidence = conf.recompute(
            Confidence(source_reliability=0.8, corroboration_count=CORROBORATIONS[tier]), created, NOW
        )
        entry = MemoryEntry(
            content=str(memory["content"]),
            tier=tier,
            memory_type=MemoryType(str(memory["type"])),
            confidence=confidence,
            embedding=vector.tolist(),
            domains=list(memory["domains"]),  # type: ignore[call-overload]
            created_at=created,
            updated_at=created,
            last_accessed=created,
            expires_at=created + timedelta(hours=48) if tier is Tier.SHORT_TERM else None,
        )
        service.store(tier).add(entry, expires_at=entry.expires_at.timestamp() if entry.expires_at else None)
        ids[str(memory["key"])] = str(entry.id)
    return ids


def run_case(service: MemoryService, query: str, expected: set[str], key_of: dict[str, str]) -> CaseResult:
    started = time.perf_counter()
    out = personal_context(service, query, "claude")
    seconds = time.perf_counter() - started
    got = {key_of[i] for i in out.context.memory_ids()}
    hits = expected & got
    return CaseResult(
        query=query,
        recall=len(hits) / len(expected),
        precision=len(hits) / len(got) if got else 0.0,
        seconds=seconds,
        missed=sorted(expected - got),
        extra=sorted(got - expected),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder-cache", type=Path, default=Path("/tmp/pmem-embedder-cache"))
    parser.add_argument("--verbose", action="store_true", help="Print every case with what it missed")
    args = parser.parse_args()
    data = json.loads(DATA.read_text())
    with tempfile.TemporaryDirectory() as home:
        service = MemoryService(DataPaths(Path(home)), build_embedder("onnx", args.embedder_cache), clock=lambda: NOW)
        try:
            ids = load(service, data["memories"])
            key_of = {v: k for k, v in ids.items()}
            personal_context(service, "warm up", "claude")
            results = [run_case(service, c["query"], set(c["expected"]), key_of) for c in data["cases"]]
        finally:
            service.close()
    if args.verbose:
        for r in results:
            print(f"R {r.recall:.2f} P {r.precision:.2f}  {r.query}\n    missed {r.missed}\n    extra  {r.extra}")
    latencies = sorted(r.seconds * 1000 for r in results)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(f"{data['person']}: {len(data['memories'])} memories, {len(results)} queries")
    print(f"recall    {statistics.mean(r.recall for r in results):.3f}")
    print(f"precision {statistics.mean(r.precision for r in results):.3f}")
    print(f"profile latency p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
