"""Latency and scale: recall, remember and bulk ingest over stores of 1k to 1M generated personal memories.

    python bench/scale.py                                  # smoke: 1,000 memories, engine and MCP
    python bench/scale.py --sizes 1000 10000 100000        # the issue's table (embeds 100k once: cached)
    python bench/scale.py --sizes 1000000 --mcp-max 0      # engine level only at 1M

For each size, the long-term tier is filled in bulk (as promotion would, from cached embeddings of
``bench/_personal.py``'s seeded memories), its indexes are built (``LanceTierStore.optimize``), then:
recall p50/p95/p99 at the engine level and over a spawned ``pmem serve`` via stdio; ``remember`` one at
a time; bulk ingest (``remember_many``, real model) against the plain sentence-transformers encode rate
of the same model on the same texts, and what the int8 weights cost against fp32 on those texts (the
LoCoMo cost is measured by ``bench/locomo.py``); ANN recall@10 against exact search; disk size; peak RSS.
Prints a table and writes bench/results/scale.json. The CPU may be shared: read ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import lancedb  # noqa: F401 - imported before anything is timed, as the server's warm-up does
import numpy as np
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import percentiles, write_results  # noqa: E402 - bench scripts run from a checkout
from _personal import embeddings, memories, memory, queries  # noqa: E402

from personal_memory.pms.context_ranking import CONTEXT_FETCH  # noqa: E402
from personal_memory.pms.embedding import Embedder, build_embedder  # noqa: E402
from personal_memory.pms.paths import DataPaths  # noqa: E402
from personal_memory.pms.schema import MemoryEntry, MemoryType, Tier  # noqa: E402
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery  # noqa: E402
from personal_memory.pms.stores.lance_tier import LanceTierStore  # noqa: E402

SEED = 20261125
LOAD_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Options:
    queries: int
    remembers: int
    ingest: int
    mcp_max: int
    embedder_cache: Path


def _entries(start: int, vectors: np.ndarray) -> list[MemoryEntry]:
    out = []
    for offset, vector in enumerate(vectors):
        kind, text = memory(SEED, start + offset)
        entry = MemoryEntry(content=text, tier=Tier.LONG_TERM, memory_type=MemoryType(kind), embedding=vector.tolist())
        out.append(entry)
    return out


def fill_long_term(store: LanceTierStore, vectors: np.ndarray) -> float:
    """Bulk-load every memory into the long-term tier; seconds taken."""
    start = time.perf_counter()
    for first in range(0, len(vectors), LOAD_BATCH):
        store.add_many(_entries(first, vectors[first : first + LOAD_BATCH]))
    return time.perf_counter() - start


def ann_recall(store: LanceTierStore, matrix: np.ndarray, texts: list[str], probes: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k (numpy over every stored vector, compared by text) among the first k results of
    the store's search for the same query, asked as recall asks it (one query, ``CONTEXT_FETCH`` results)."""
    shares = []
    for probe in probes:
        got = [i for i, _ in store.dense_search(probe, CONTEXT_FETCH)[:k]]
        content = {e.content for e in store.get_many(got).values()}
        exact = {texts[row] for row in np.argpartition(-(matrix @ probe), k)[:k]}  # a repeated text counts once
        shares.append(len(exact & content) / len(exact))
    return float(np.mean(shares))


def engine_recall(service: MemoryService, asked: list[str]) -> list[float]:
    for text in asked[:5]:
        service.recall(RecallQuery(text))
    gc.collect()
    gc.freeze()  # as the server does after its warm-up: full collections then skip the long-lived objects
    samples = []
    for text in asked:
        start = time.perf_counter()
        service.recall(RecallQuery(text))
        samples.append(time.perf_counter() - start)
    return samples


def remember_one_by_one(service: MemoryService, texts: list[str]) -> list[float]:
    service.classifier.classify("warm up")  # the classifier's prototypes load once, as the server's warm-up does
    samples = []
    for text in texts:
        start = time.perf_counter()
        service.remember(NewMemory(text))
        samples.append(time.perf_counter() - start)
    return samples


async def mcp_recall(home: Path, asked: list[str], embedder_cache: Path) -> list[float]:
    """Round trips of the MCP ``recall`` tool against a spawned ``pmem serve`` over stdio."""
    env = dict(os.environ) | {
        "PMEM_HOME": str(home),
        "PMEM_EMBEDDER_CACHE": str(embedder_cache),
        "PMEM_PROMOTION_INTERVAL_MINUTES": "0",
    }
    params = StdioServerParameters(command=str(Path(sys.executable).parent / "pmem"), args=["serve"], env=env)
    samples = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for text in asked[:5]:
            await session.call_tool("recall", {"query": text})
        for text in asked:
            start = time.perf_counter()
            result = await session.call_tool("recall", {"query": text})
            samples.append(time.perf_counter() - start)
            assert not result.is_error, result.content
    return samples


def sentence_transformers_rate(texts: list[str], threads: int | None = None) -> float | None:
    """Sentences/s of plain sentence-transformers on ``texts``, in a fresh process; None if absent.

    Its defaults, or ``threads`` torch threads: its two default threads collapse when another process shares
    the cores (shared/ENVIRONMENT.md), where one thread is the steadier baseline."""
    set_threads = "" if threads is None else f"import torch; torch.set_num_threads({threads})\n"
    script = (
        "import json, sys, time\n"
        "from sentence_transformers import SentenceTransformer\n"
        f"{set_threads}"
        "texts = json.load(open(sys.argv[1])); path = sys.argv[2]\n"
        "model = SentenceTransformer(path, device='cpu'); model.encode(texts[:32])\n"
        "start = time.perf_counter(); model.encode(texts); print(len(texts) / (time.perf_counter() - start))\n"
    )
    from personal_memory.pms.embedding import default_model_dir

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(texts, handle)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, handle.name, str(default_model_dir())],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        print(f"sentence-transformers baseline skipped: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(done.stdout.strip().splitlines()[-1])


def quantisation_cost(
    embedder: Embedder, cache: Path, texts: list[str], asked: list[str], k: int = 10
) -> dict[str, Any]:
    """What the int8 weights cost against fp32 on the same texts: the mean cosine between each text's two
    vectors, and recall@k of search in int8 space against the fp32 top-k (queries over ``texts``)."""
    exact = build_embedder("onnx-fp32", cache)
    docs, probes = embedder.embed(texts), embedder.embed(asked)
    exact_docs, exact_probes = exact.embed(texts), exact.embed(asked)
    found = np.argsort(-(probes @ docs.T), axis=1)[:, :k]
    wanted = np.argsort(-(exact_probes @ exact_docs.T), axis=1)[:, :k]
    overlap = [len(set(a) & set(b)) / k for a, b in zip(found, wanted, strict=True)]
    return {
        "embedder": embedder.identity,
        "mean_cosine_to_fp32": float(np.mean(np.sum(docs * exact_docs, axis=1))),
        f"recall_at_{k}_vs_fp32": float(np.mean(overlap)),
    }


def bulk_ingest(service: MemoryService, texts: list[str]) -> float:
    start = time.perf_counter()
    service.remember_many([NewMemory(t) for t in texts])
    return len(texts) / (time.perf_counter() - start)


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def run_size(size: int, embedder: Embedder, options: Options, workdir: Path) -> dict[str, Any]:
    vectors = embeddings(SEED, size, embedder.identity, embedder.embed)
    added = max(10, size // 100)  # rows added after the index is built, to time its update
    texts = memories(SEED, size + added)
    matrix = np.vstack([vectors, embedder.embed(texts[size:])])
    home = workdir / f"home-{size}"
    service = MemoryService(DataPaths(home), embedder)
    store = service.store(Tier.LONG_TERM)
    assert isinstance(store, LanceTierStore)
    policy = store.ann
    store.ann = replace(policy, refresh_rows=2**62)  # one build after the bulk load, as `pmem optimize` after an import
    row: dict[str, Any] = {"size": size, "load_s": fill_long_term(store, matrix[:size])}
    row["index_build_s"] = store.optimize().seconds
    store.ann = policy
    store.add_many(_entries(size, matrix[size:]))
    report = store.optimize()
    row.update(index_update_s=report.seconds, ann_index=report.ann_index)
    asked = queries(SEED, options.queries)
    row["ann_recall_at_10"] = ann_recall(store, matrix, texts, embedder.embed(asked[:100]))  # real queries
    row["engine_recall_ms"] = percentiles(engine_recall(service, asked))
    fresh = memories(SEED, options.remembers + options.ingest, start=size + added)
    row["remember_ms"] = percentiles(remember_one_by_one(service, fresh[: options.remembers]))
    row["ingest_per_s"] = bulk_ingest(service, fresh[options.remembers :])
    service.close()
    if size <= options.mcp_max:
        row["mcp_recall_ms"] = percentiles(anyio.run(mcp_recall, home, asked, options.embedder_cache))
    row["disk_mb"] = _disk_mb(home)
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _print(rows: list[dict[str, Any]], ingest: dict[str, Any]) -> None:
    head = (
        f"{'memories':>9} {'load s':>7} {'index s':>8} {'update s':>8} {'ANN r@10':>8} "
        f"{'engine p50/p95/p99 ms':>22} {'MCP p50/p95/p99 ms':>20} {'remember p50/p95':>16} {'ingest/s':>9} "
        f"{'disk MB':>8} {'RSS MB':>7}"
    )
    print(head)
    for r in rows:
        e = r["engine_recall_ms"]
        m = r.get("mcp_recall_ms")
        mcp = f"{m['p50']:.1f}/{m['p95']:.1f}/{m['p99']:.1f}" if m else "-"
        print(
            f"{r['size']:>9,} {r['load_s']:>7.1f} {r['index_build_s']:>8.1f} {r['index_update_s']:>8.1f} "
            f"{r['ann_recall_at_10']:>8.3f} {e['p50']:.1f}/{e['p95']:.1f}/{e['p99']:.1f}".ljust(70)
            + f"{mcp:>20} {r['remember_ms']['p50']:.1f}/{r['remember_ms']['p95']:.1f}".rjust(17)
            + f" {r['ingest_per_s']:>9.0f} {r['disk_mb']:>8.0f} {r['peak_rss_mb']:>7.0f}"
        )
    st = ingest.get("sentence_transformers_per_s")
    ratio = f": {ingest['ratio']:.2f}x (target >= 3x)" if st else " (sentence-transformers baseline skipped)"
    print(
        f"bulk ingest {ingest['pmem_per_s']:.0f}/s vs plain sentence-transformers encode "
        f"{f'{st:.0f}/s' if st else '-'}{ratio}"
    )
    cost = ingest.get("quantisation")
    if cost:
        print(
            f"int8 weights ({cost['embedder']}) vs fp32 on the ingested texts: mean cosine "
            f"{cost['mean_cosine_to_fp32']:.4f}, search recall@10 {cost['recall_at_10_vs_fp32']:.3f} "
            "(LoCoMo: bench/locomo.py)"
        )
    print("targets: MCP recall p50 <= 20 ms, p95 <= 40 ms at 100k; engine p95 <= 50 ms at 1M; ANN recall >= 0.95")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--queries", type=int, default=200, help="Recall queries per size")
    parser.add_argument("--remembers", type=int, default=50, help="One-by-one remembers per size")
    parser.add_argument("--ingest", type=int, default=1000, help="Memories bulk-ingested per size")
    parser.add_argument("--mcp-max", type=int, default=100_000, help="Largest size also measured over MCP stdio")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (the server's default is 1)")
    parser.add_argument(
        "--embedder",
        choices=["onnx", "onnx-fp32", "onnx-int8-dynamic"],
        default="onnx",
        help="int8 (default), fp32, or the earlier int8 file (one scale per run)",
    )
    parser.add_argument("--embedder-cache", type=Path, default=Path(tempfile.gettempdir()) / "pmem-embedder-cache")
    parser.add_argument("--no-baseline", action="store_true", help="Skip the sentence-transformers baseline")
    parser.add_argument("--baseline-threads", type=int, help="torch threads of the baseline (default: its own)")
    parser.add_argument("--results", default="scale", help="Name of the bench/results/<name>.json file")
    args = parser.parse_args()
    options = Options(args.queries, args.remembers, args.ingest, args.mcp_max, args.embedder_cache)
    embedder = build_embedder(args.embedder, args.embedder_cache, threads=args.threads)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pmem-scale-") as tmp:
        for size in args.sizes:
            rows.append(run_size(size, embedder, options, Path(tmp)))
            print(f"done {size:,}", file=sys.stderr)
    last = max(args.sizes)
    texts = memories(SEED, args.ingest, start=last + max(10, last // 100) + args.remembers)  # the last ingest's
    ingest: dict[str, Any] = {"pmem_per_s": rows[-1]["ingest_per_s"]}
    st = None if args.no_baseline else sentence_transformers_rate(texts, args.baseline_threads)
    if st:
        ingest.update(sentence_transformers_per_s=st, ratio=ingest["pmem_per_s"] / st)
        ingest["sentence_transformers_threads"] = args.baseline_threads or "default"
    if args.embedder != "onnx-fp32":
        ingest["quantisation"] = quantisation_cost(embedder, args.embedder_cache, texts, queries(SEED, args.queries))
    _print(rows, ingest)
    write_results(args.results, {"sizes": rows, "ingest": ingest, "threads": args.threads, "embedder": args.embedder})


if __name__ == "__main__":
    main()
