"""Ingest throughput: generate a ChatGPT export of N user messages, ingest it, print datapoints/s and memories/s.

    python bench/ingest.py                    # 50,000 messages, the real MiniLM model
    python bench/ingest.py --messages 2000 --embedder hash

Runs in a temporary PMEM_HOME; prints peak resident memory so streaming can be checked at scale.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from personal_memory.ingest.datapoint import reliability_for  # noqa: E402  (after the path set-up)
from personal_memory.ingest.ledger import Ledger  # noqa: E402
from personal_memory.ingest.pipeline import Ingestion, IngestOptions  # noqa: E402
from personal_memory.ingest.registry import load_ingesters  # noqa: E402
from personal_memory.pms.embedding import build_embedder  # noqa: E402
from personal_memory.pms.paths import DataPaths  # noqa: E402
from personal_memory.pms.service import MemoryService  # noqa: E402

FACTS = [
    "I live in {city}.",
    "I love {thing}.",
    "My favourite food is {food}.",
    "I work as a {job}.",
    "I have been learning {lang} for {n} years.",
    "I visited {city} in {year}.",
    "I prefer {thing} to {food}.",
]
NOISE = [
    "Can you write a function that sorts {n} items?",
    "What is the capital of {city}?",
    "Summarise this article about {thing}.",
    "Fix the bug in my {lang} code please.",
]
WORDS = {
    "city": ["Lyon", "Oslo", "Kyoto", "Lima", "Perth", "Quito", "Riga", "Turin"],
    "thing": ["hiking", "jazz", "chess", "sailing", "pottery", "cycling", "opera"],
    "food": ["ramen", "paella", "dumplings", "tacos", "curry", "pho"],
    "job": ["nurse", "carpenter", "data analyst", "teacher", "pilot"],
    "lang": ["Rust", "Python", "Go", "Haskell", "Elixir"],
}


def write_export(path: Path, messages: int, seed: int = 7) -> None:
    """Conversations of 4 user turns (3 of them chatter) with assistant replies, streamed to disk."""
    rng = random.Random(seed)

    def turn(template: str) -> str:
        fill = {k: rng.choice(v) for k, v in WORDS.items()} | {"n": rng.randint(2, 40), "year": rng.randint(1990, 2025)}
        return template.format(**fill)

    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for conv in range((messages + 3) // 4):
            mapping: dict[str, dict[str, object]] = {
                "root": {"id": "root", "message": None, "parent": None, "children": []}
            }
            parent = "root"
            for i in range(8):
                node = f"c{conv}-m{i}"
                role = "user" if i % 2 == 0 else "assistant"
                text = turn(rng.choice(FACTS if i == 0 else NOISE)) if role == "user" else "Sure, here you go."
                mapping[node] = {
                    "id": node,
                    "parent": parent,
                    "children": [],
                    "message": {
                        "id": node,
                        "author": {"role": role, "name": None, "metadata": {}},
                        "create_time": 1.7e9 + conv,
                        "content": {"content_type": "text", "parts": [text]},
                        "status": "finished_successfully",
                    },
                }
                mapping[parent]["children"].append(node)  # type: ignore[union-attr]  # built as a list above
                parent = node
            out.write(
                ("," if conv else "")
                + json.dumps(
                    {
                        "title": f"Chat {conv}",
                        "create_time": 1.7e9 + conv,
                        "mapping": mapping,
                        "current_node": parent,
                        "conversation_id": f"conv-{conv}",
                        "id": f"conv-{conv}",
                    }
                )
            )
        out.write("]")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--embedder", choices=["onnx", "hash"], default="onnx")
    parser.add_argument("--embedder-cache", type=Path, default=Path.home() / ".pmem" / "models" / "embedder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "conversations.json"
        write_export(export, args.messages)
        export_mb = round(export.stat().st_size / 1e6, 1)
        paths = DataPaths(Path(tmp) / "home")
        service = MemoryService(paths, build_embedder(args.embedder, args.embedder_cache))
        service.warm_up()
        ledger = Ledger(paths.home / "data" / "ingest.sqlite")
        start = time.perf_counter()
        summary = Ingestion(IngestOptions(reliability_for("chatgpt")), ledger, service).run(
            load_ingesters()["chatgpt"], export
        )
        seconds = time.perf_counter() - start
        ledger.close()
        service.close()
    result = {
        "datapoints": summary.datapoints,
        "memories": summary.stored,
        "seconds": round(seconds, 2),
        "datapoints_per_s": round(summary.datapoints / seconds, 1),
        "memories_per_s": round(summary.stored / seconds, 1),
        "export_mb": export_mb,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result | {"errors": len(summary.errors)}))
    return result


if __name__ == "__main__":
    main()
