"""Retrieval quality on LoCoMo: evidence recall@k of the product's recall, beside BM25 and MiniLM.

    python bench/locomo.py                              # the dev set in ../shared/bench
    python bench/locomo.py --data PATH                  # any file in the LoCoMo layout
    python bench/locomo.py --limit-conversations 1 --limit-questions 20   # smoke
    python bench/locomo.py --train-reranker             # re-fit personal_memory/pms/data/rerank.json
    python bench/locomo.py --no-flat --no-reference     # the product's lines only (iterating)

Each conversation is ingested through the product (``pmem ingest conversation``'s pipeline) into its own
PMEM_HOME and every question (categories 1-4) is asked through ``MemoryService.recall`` as the MCP tool
does. The reranker is learned, so on conversations it was trained on the product is scored with a model
re-fitted without that conversation (leave-one-conversation-out); the last line is that honest figure.
The "flat" line stores the same turns one by one through the MCP ``remember`` tool (content only) and asks
through MCP ``recall``. Stores and vectors are cached under ``bench/.cache/locomo``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import percentiles, write_results  # noqa: E402  (after the path set-up)
from bench._locomo_data import CATEGORIES, Conversation, Scores, load, reference_scores  # noqa: E402
from bench._locomo_flat import flat_scores  # noqa: E402
from bench._locomo_train import Records, fit  # noqa: E402
from personal_memory.ingest.ledger import Ledger  # noqa: E402
from personal_memory.ingest.pipeline import Ingestion, IngestOptions  # noqa: E402
from personal_memory.ingest.registry import load_ingesters  # noqa: E402
from personal_memory.pms.context_ranking import ContextRanker, RerankModel, load_model, shipped_model_path  # noqa: E402
from personal_memory.pms.embedding import Embedder, build_embedder  # noqa: E402
from personal_memory.pms.paths import DataPaths  # noqa: E402
from personal_memory.pms.service import MemoryService, RecallHit, RecallQuery  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "locomo-dev.json"
CACHE = ROOT / "bench" / ".cache" / "locomo"
LIMIT = 20  # the tool's default is 10; 20 to read recall@20 (the first 10 are the same either way)
INGEST_CODE = ("personal_memory/ingest/adapters/conversation.py", "personal_memory/pms/schema.py")


def _store_key(conv: Conversation, embedder: Embedder) -> str:
    digest = hashlib.sha256(repr(conv.raw["conversation"]).encode() + embedder.identity.encode())
    for name in INGEST_CODE:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:12]


def ingested_store(conv: Conversation, embedder: Embedder, work: Path, cache: Path = CACHE) -> Path:
    """A fresh copy of the conversation's store, ingested through the product's pipeline (cached)."""
    cached = cache / "stores" / f"{conv.sample_id}-{_store_key(conv, embedder)}"
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache))
        export = staging / "locomo.json"
        export.write_text(json.dumps([conv.raw]))
        service = MemoryService(DataPaths(staging / "home"), embedder)
        ledger = Ledger(staging / "home" / "data" / "ingest.sqlite")
        ingester = load_ingesters(["conversation"], plugins=False)["conversation"]
        summary = Ingestion(IngestOptions(reliability=0.7), ledger, service).run(ingester, export)
        ledger.close()
        service.close()
        if summary.errors:
            raise SystemExit(f"ingesting {conv.sample_id} failed: {summary.errors}")
        cached.parent.mkdir(parents=True, exist_ok=True)
        (staging / "home").rename(cached)
        shutil.rmtree(staging)
    target = work / conv.sample_id
    shutil.copytree(cached, target)
    return target


def dia_ids(hits: list[RecallHit]) -> list[set[str]]:
    """The turns each hit stands for (a repeated turn is one memory with several sources)."""
    return [{s.reference.split(":", 1)[1] for s in h.entry.sources if s.reference} for h in hits]


def ask_all(service: MemoryService, conv: Conversation, latencies: list[float]) -> Scores:
    scores = Scores()
    for question in conv.questions:
        start = time.perf_counter()
        hits = service.recall(RecallQuery(question.text, limit=LIMIT))
        latencies.append(time.perf_counter() - start)
        scores.add(question, dia_ids(hits))
    return scores


def print_table(lines: dict[str, Scores]) -> None:
    keys = Scores.keys()
    print(f"{'':34}" + "".join(f"{k:>9}" for k in keys) + "".join(f"{CATEGORIES[c][:11]:>13}" for c in CATEGORIES))
    for name, scores in lines.items():
        overall = scores.mean()
        per = [scores.mean(c)["r@10"] for c in CATEGORIES]
        print(f"{name:34}" + "".join(f"{overall[k]:9.3f}" for k in keys) + "".join(f"{v:13.3f}" for v in per))
    print(f"{'':34}{'(per category: recall@10)':>36}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit-conversations", type=int)
    parser.add_argument("--limit-questions", type=int, help="per conversation (smoke runs)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="ingested stores and vectors")
    parser.add_argument("--embedder-cache", type=Path, default=CACHE / "embedder")
    parser.add_argument("--results-name", default="locomo", help="bench/results/NAME.json")
    parser.add_argument("--no-flat", action="store_true", help="skip the flat MCP remember/recall line")
    parser.add_argument("--no-reference", action="store_true", help="skip the BM25 and MiniLM lines (iterating)")
    parser.add_argument("--train-reranker", action="store_true", help=f"re-fit {shipped_model_path().name}")
    args = parser.parse_args()

    convs = load(args.data, args.limit_conversations, args.limit_questions)
    embedder = build_embedder("onnx", args.embedder_cache)
    try:
        shipped = load_model()
    except ValueError as exc:  # the features changed since the weights were fitted
        if not args.train_reranker:
            raise SystemExit(f"{exc}; run with --train-reranker") from exc
        shipped = RerankModel.neutral()
    print(
        f"{len(convs)} conversations, {sum(len(c.texts) for c in convs)} turns, "
        f"{sum(len(c.questions) for c in convs)} questions (categories 1-4); evidence ids matching no turn "
        f"dropped: {sum(c.dropped_evidence for c in convs)}, questions left without evidence: "
        f"{sum(c.no_evidence for c in convs)}"
    )
    references = () if args.no_reference else ("bm25-stemmed", "minilm-cosine")
    lines: dict[str, Scores] = {n: Scores() for n in (*references, "product (shipped reranker)")}
    records = Records()
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        services: dict[str, MemoryService] = {}
        for conv in convs:
            if references:
                for name, scores in reference_scores(conv, embedder, args.cache / "vectors").items():
                    lines[name].extend(scores)
            ranker = ContextRanker(shipped)
            ranker.recorder = records.recorder(conv)
            service = MemoryService(
                DataPaths(ingested_store(conv, embedder, Path(tmp), args.cache)), embedder, context_ranker=ranker
            )
            service.recall(RecallQuery("warm up"), touch=False)
            lines["product (shipped reranker)"].extend(ask_all(service, conv, latencies))
            ranker.recorder = None
            services[conv.sample_id] = service
        trained = [c for c in convs if c.sample_id in shipped.trained_on]
        if trained:  # honest figures: each conversation scored by a model that never saw it
            held_out = Scores()
            latencies = []
            for conv in convs:
                model = shipped
                if conv.sample_id in shipped.trained_on:
                    model = fit(records, exclude=conv.sample_id)
                services[conv.sample_id].context.model = model
                held_out.extend(ask_all(services[conv.sample_id], conv, latencies))
            lines["product (leave-one-conv-out)"] = held_out
        for service in services.values():
            service.close()
    if not args.no_flat:
        lines["flat: MCP remember/recall"] = flat_scores(convs, args.embedder_cache, args.cache)
    if args.train_reranker:
        model = fit(records)
        shipped_model_path().write_text(json.dumps(model.to_json(), indent=1) + "\n")
        print(f"wrote {shipped_model_path()} (trained on {', '.join(model.trained_on)})")
    print_table(lines)
    lat = percentiles(latencies)
    print(
        f"recall latency (MemoryService.recall, limit {LIMIT}, CPU shared, noisy): "
        f"p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms over {len(latencies)} queries"
    )
    headline_name = (
        "product (leave-one-conv-out)" if "product (leave-one-conv-out)" in lines else "product (shipped reranker)"
    )
    headline = lines[headline_name].mean()
    write_results(
        args.results_name,
        {
            "data": str(args.data),
            "headline": headline_name,
            "latency_ms": lat,
            "lines": {
                n: {"overall": s.mean(), **{CATEGORIES[c]: s.mean(c) for c in CATEGORIES}} for n, s in lines.items()
            },
        },
    )
    print(f"headline: {headline_name}")
    print(f"locomo: recall@5={headline['r@5']:.3f} recall@10={headline['r@10']:.3f}")


if __name__ == "__main__":
    main()
