"""Peers side by side, in one run: pmem, mem0 (offline) and the reference MCP memory server.

    python bench/peers.py                                  # 1k and 10k entities, first LoCoMo conversation
    python bench/peers.py --entities 1000 --conversations 5

- LoCoMo (``/work/shared/bench/locomo-dev.json`` or ``--data``): every turn of a conversation stored as
  ``[date] speaker: text``, every question (categories 1-4) asked; evidence recall@10 and search latency
  for pmem (``MemoryService.recall``) and mem0 (``infer=False``, huggingface embedder on the same local
  MiniLM folder, on-disk qdrant, telemetry off), and what the reference server's ``search_nodes`` returns.
- The reference server (``npx -y @modelcontextprotocol/server-memory``) driven over stdio by the same MCP
  client: ``search_nodes`` round trips with 1k and 10k entities.
A peer that cannot be installed or started is skipped with the reason. Writes bench/results/peers.json.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import percentiles, write_results  # noqa: E402 - bench scripts run from a checkout
from _personal import memory, queries  # noqa: E402

from personal_memory.pms.embedding import build_embedder, default_model_dir  # noqa: E402
from personal_memory.pms.paths import DataPaths  # noqa: E402
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery  # noqa: E402

LOCOMO = Path("/work/shared/bench/locomo-dev.json")
K = 10
Turns = dict[str, str]  # dia_id -> stored text
Questions = list[tuple[str, set[str]]]  # (question, evidence dia_ids)


def evidence_ids(raw: list[str]) -> set[str]:
    """Normalise the source's malformed ids ("D8:6; D9:17", "D:11:26", "D30:05") to "D<session>:<turn>"."""
    return {f"D{int(s)}:{int(t)}" for item in raw for s, t in re.findall(r"D:?(\d+):(\d+)", item)}


def load_conversation(sample: dict[str, Any], limit: int, sessions: int | None = None) -> tuple[Turns, Questions]:
    """The turns of the first ``sessions`` sessions (all by default) and at most ``limit`` questions about them."""
    talk = sample["conversation"]
    turns: Turns = {}
    keys = sorted((k for k in talk if re.fullmatch(r"session_\d+", k)), key=lambda k: int(k.split("_")[1]))
    for key in keys[:sessions]:
        for turn in talk[key]:
            caption = f" [shares {turn['blip_caption']}]" if turn.get("blip_caption") else ""
            turns[turn["dia_id"]] = f"[{talk[key + '_date_time']}] {turn['speaker']}: {turn['text']}{caption}"
    asked = [(q["question"], evidence_ids(q["evidence"])) for q in sample["qa"] if q["category"] in (1, 2, 3, 4)]
    return turns, [(q, e) for q, e in asked if e and e <= turns.keys()][:limit]


def score(search: Callable[[str], list[str]], asked: Questions) -> dict[str, Any]:
    """Evidence recall@K (share of evidence turns in the top K) and search latency, over ``asked``."""
    recalls, samples = [], []
    for question, evidence in asked:
        start = time.perf_counter()
        found = search(question)[:K]
        samples.append(time.perf_counter() - start)
        recalls.append(len(evidence & set(found)) / len(evidence))
    return {f"recall@{K}": sum(recalls) / len(recalls), "search_ms": percentiles(samples)}


def pmem_locomo(turns: Turns, asked: Questions, cache: Path, home: Path) -> dict[str, Any]:
    service = MemoryService(DataPaths(home), build_embedder("onnx", cache))
    outcomes = service.remember_many([NewMemory(text) for text in turns.values()])
    by_id = {o.entry.id: dia for o, dia in zip(outcomes, turns, strict=True)}
    result = score(lambda q: [by_id[h.entry.id] for h in service.recall(RecallQuery(q, limit=K), touch=False)], asked)
    service.close()
    return result


def mem0_locomo(turns: Turns, asked: Questions, home: Path) -> dict[str, Any]:
    """mem0 fully offline; raises ImportError when it is not installed."""
    os.environ.setdefault("MEM0_TELEMETRY", "False")
    os.environ.setdefault("OPENAI_API_KEY", "sk-unused-offline")  # mem0 wants one even with infer=False
    from mem0 import Memory

    config = {
        "embedder": {"provider": "huggingface", "config": {"model": str(default_model_dir()), "embedding_dims": 384}},
        "vector_store": {"provider": "qdrant", "config": {"path": str(home / "qdrant"), "embedding_model_dims": 384,
                                                          "collection_name": "locomo", "on_disk": True}},
        "history_db_path": str(home / "history.db"),
    }
    memory_store = Memory.from_config(config)
    for dia, text in turns.items():
        memory_store.add(text, user_id="locomo", infer=False, metadata={"dia_id": dia})

    if "top_k" in inspect.signature(memory_store.search).parameters:  # mem0 >= 2: filters, top_k, a threshold
        def find(question: str) -> Any:
            return memory_store.search(question, top_k=K, filters={"user_id": "locomo"}, threshold=0.0)
    else:
        def find(question: str) -> Any:
            return memory_store.search(question, user_id="locomo", limit=K)

    def search(question: str) -> list[str]:
        found = find(question)
        hits = found["results"] if isinstance(found, dict) else found
        return [h["metadata"]["dia_id"] for h in hits]

    return score(search, asked)


def _reference_params(memory_file: Path) -> StdioServerParameters:
    env = dict(os.environ) | {"MEMORY_FILE_PATH": str(memory_file)}
    return StdioServerParameters(command="npx", args=["-y", "@modelcontextprotocol/server-memory"], env=env)


async def reference_latency(size: int, asked: list[str], folder: Path) -> dict[str, Any]:
    """Load ``size`` entities (one generated memory each) and time ``search_nodes`` round trips."""
    async with stdio_client(_reference_params(folder / f"graph-{size}.jsonl")) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        for first in range(0, size, 500):
            entities = [{"name": f"memory-{i}", "entityType": memory(1, i)[0], "observations": [memory(1, i)[1]]}
                        for i in range(first, min(size, first + 500))]
            await session.call_tool("create_entities", {"entities": entities})
        samples = []
        for text in asked:
            start = time.perf_counter()
            await session.call_tool("search_nodes", {"query": text})
            samples.append(time.perf_counter() - start)
    return percentiles(samples)


async def reference_locomo(turns: Turns, asked: Questions, folder: Path) -> dict[str, Any]:
    async with stdio_client(_reference_params(folder / "locomo.jsonl")) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        entities = [{"name": dia, "entityType": "turn", "observations": [text]} for dia, text in turns.items()]
        await session.call_tool("create_entities", {"entities": entities})
        answers: list[list[str]] = []

        async def search(question: str) -> list[str]:
            result = await session.call_tool("search_nodes", {"query": question})
            graph = result.structured_content or json.loads(result.content[0].text)  # type: ignore[union-attr]
            return [e["name"] for e in graph.get("entities", [])]

        for question, _ in asked:
            answers.append(await search(question))
    nonempty = sum(bool(a) for a in answers)
    recall = sum(len(e & set(a[:K])) / len(e) for a, (_, e) in zip(answers, asked, strict=True)) / len(asked)
    return {f"recall@{K}": recall, "questions_with_any_result": nonempty, "questions": len(asked)}


def _try(name: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ImportError as exc:
        print(f"peer skipped: {name} is not installed ({exc}); `pip install -e .[peers]` adds it", file=sys.stderr)
    except (OSError, RuntimeError) as exc:
        print(f"peer skipped: {name} could not run ({exc})", file=sys.stderr)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=LOCOMO)
    parser.add_argument("--conversations", type=int, default=1)
    parser.add_argument("--questions", type=int, default=200, help="Most questions asked per conversation")
    parser.add_argument("--sessions", type=int, help="Only the first N sessions of each conversation (smoke runs)")
    parser.add_argument("--entities", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--embedder-cache", type=Path, default=Path(tempfile.gettempdir()) / "pmem-embedder-cache")
    parser.add_argument("--results", default="peers")
    args = parser.parse_args()
    samples = json.loads(args.data.read_text())[: args.conversations]
    has_npx = shutil.which("npx") is not None
    if not has_npx:
        print("peer skipped: the reference MCP memory server needs npx (Node.js)", file=sys.stderr)
    results: dict[str, Any] = {"locomo": {}, "reference_latency_ms": {}}
    with tempfile.TemporaryDirectory(prefix="pmem-peers-") as tmp:
        folder = Path(tmp)
        for n, sample in enumerate(samples):
            turns, asked = load_conversation(sample, args.questions, args.sessions)
            row = {"pmem": pmem_locomo(turns, asked, args.embedder_cache, folder / f"pmem-{n}")}
            row["mem0"] = _try("mem0", lambda: mem0_locomo(turns, asked, folder / f"mem0-{n}"))  # noqa: B023
            if has_npx:
                row["reference"] = _try("server-memory", lambda: anyio.run(reference_locomo, turns, asked, folder))  # noqa: B023
            results["locomo"][sample["sample_id"]] = row
        if has_npx:
            asked = queries(1, 100)
            for size in args.entities:
                results["reference_latency_ms"][size] = _try(
                    "server-memory", lambda: anyio.run(reference_latency, size, asked, folder)  # noqa: B023
                )
    print(f"{'peer / conversation':<32}{'recall@10':>10}{'search p50 ms':>15}{'p95 ms':>8}")
    for conv, row in results["locomo"].items():
        for peer, got in row.items():
            if got is None:
                print(f"{peer + ' / ' + conv:<32}{'skipped':>10}")
                continue
            ms = got.get("search_ms", {})
            extra = f"  ({got['questions_with_any_result']}/{got['questions']} questions got any result)" \
                if "questions_with_any_result" in got else ""
            print(f"{peer + ' / ' + conv:<32}{got['recall@10']:>10.3f}{ms.get('p50', float('nan')):>15.1f}"
                  f"{ms.get('p95', float('nan')):>8.1f}{extra}")
    for size, got in results["reference_latency_ms"].items():
        if got:
            print(f"reference server search_nodes at {size:,} entities: "
                  f"p50 {got['p50']:.1f} ms, p95 {got['p95']:.1f} ms")
    write_results(args.results, results)


if __name__ == "__main__":
    main()
