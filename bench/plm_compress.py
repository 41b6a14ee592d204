"""Pruning and compression on a real small model: SmolLM2-135M-Instruct, personalised, then compressed.

Not run in CI (many minutes of CPU). Finds the GGUF like ``plm_train.py`` (see its docstring to fetch it
once); without it, prints SKIP and exits 0. In a data dir: remember ``plm_train.MEMORIES``, prepare,
train a LoRA adapter (skipped when ``--home`` already holds a trained one), then ``run_compression``
with domain activations shaped like SEED.md's example table, once per ``--setting`` (FFN share : head
share), and write ``bench/results/plm_compress.json``: per run, parameters, size on disk (and versus
the original's fp16 size), tokens/s, held-out quality and perplexity of the original, pruned,
recovered and quantised models, and the curve of the final models.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import write_results
from plm_train import find_gguf, prepared_pipeline

from personal_memory.plm.compress import CompressionReport, CompressOptions, run_compression
from personal_memory.plm.compress.prune import PruneConfig
from personal_memory.plm.compress.recover import RECOVERY
from personal_memory.plm.errors import AdapterError
from personal_memory.plm.layout import PLMPaths
from personal_memory.plm.lora import TrainConfig
from personal_memory.plm.pipeline import Pipeline, PLMOptions
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryEntry
from personal_memory.pms.service import MemoryService

# SEED.md's example activation counts, on the lexicon's domain names (medicine -> health, cooking -> food).
ACTIVATIONS = {"drupal": 450, "python": 300, "government": 150, "react": 80, "health": 2, "finance": 5, "food": 13}


def trained_pipeline(home: Path, gguf: Path, args: argparse.Namespace) -> tuple[Pipeline, list[MemoryEntry]]:
    """The pipeline with a trained adapter: the one already in ``home``, else prepared and trained now."""
    pipeline = Pipeline(PLMPaths(DataPaths(home).models), PLMOptions(base_model=str(gguf), threads=args.threads))
    try:
        pipeline.registry.active()
    except AdapterError:
        pipeline, _manifest, memories = prepared_pipeline(home, gguf, args.threads)
        print("training the personal adapter", flush=True)
        config = TrainConfig(
            epochs=args.train_epochs, gradient_accumulation=1, learning_rate=args.train_lr, threads=args.threads
        )
        pipeline.run(config, progress)
        return pipeline, memories
    service = MemoryService(DataPaths(home), HashEmbedder())
    memories = list(service.iter_active())
    service.close()
    return pipeline, memories


def progress(step: int, total: int, loss: float) -> None:
    print(f"  step {step}/{total} loss {loss:.4f}", flush=True)


def curve_row(report: CompressionReport) -> dict[str, object]:
    """The final model of a run, against the original and SEED.md's target."""
    final, original = report.final, report.stages[0]
    return {
        "ffn_share": report.prune.ffn_share,
        "head_share": report.prune.head_share,
        "recovery_epochs": report.recovery.epochs,
        "step": final.step,
        "quantisation": report.quantisation_choice.chosen if report.quantisation_choice else None,
        "parameters": final.parameters,
        "size_mb": round(final.size_bytes / 1e6, 1),
        "of_fp16": round(report.size_of_fp16(final), 4),
        "tokens_per_second": final.tokens_per_second,
        "f1": round(final.f1, 3),
        "f1_retained": round(report.quality_retained(final) or 0.0, 3),
        "recovered_f1": round(report.stage("recovered").f1, 3),
        "perplexity": final.perplexity,
        "original_perplexity": original.perplexity,
        "target_met": report.target_met(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", help="path of SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--train-epochs", type=int, default=3)
    parser.add_argument("--train-lr", type=float, default=1e-3)
    parser.add_argument("--recover-epochs", type=int, default=RECOVERY.epochs)
    parser.add_argument("--recover-lr", type=float, default=RECOVERY.learning_rate)
    parser.add_argument("--setting", action="append", metavar="FFN:HEADS", help="shares pruned, e.g. 0.5:0.34")
    parser.add_argument("--quantize", choices=["auto", "int4", "int8", "4bit", "none"], default="auto")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--home", type=Path, help="data dir to keep and reuse (default: a temporary one)")
    args = parser.parse_args()
    gguf = find_gguf(args.gguf)
    if gguf is None:
        print("SKIP: SmolLM2-135M-Instruct GGUF not found; see bench/plm_train.py's docstring to fetch it.")
        return 0
    home = args.home or Path(tempfile.mkdtemp(prefix="pmem-bench-compress-"))
    pipeline, memories = trained_pipeline(home, gguf, args)
    runs = []
    for setting in args.setting or [f"{PruneConfig().ffn_share}:{PruneConfig().head_share}"]:
        ffn, heads = (float(share) for share in setting.split(":"))
        options = CompressOptions(
            prune=PruneConfig(ffn_share=ffn, head_share=heads),
            recovery=RECOVERY.model_copy(
                update={"epochs": args.recover_epochs, "learning_rate": args.recover_lr, "threads": args.threads}
            ),
            quantize=args.quantize,
            threads=args.threads,
        )
        print(f"== ffn share {ffn}, head share {heads}", flush=True)
        report = run_compression(
            pipeline, memories, ACTIVATIONS, options, lambda line: print(line, flush=True), progress
        )
        for line in report.lines():
            print(line)
        runs.append((options, report))
    curve = [curve_row(report) for _options, report in runs]
    print(f"{'ffn':>5}{'heads':>7}{'params':>13}{'size':>10}{'of fp16':>9}{'tok/s':>8}{'F1':>7}{'kept':>7}{'ppl':>9}")
    for row in curve:
        print(
            f"{row['ffn_share']:>5}{row['head_share']:>7}{row['parameters']:>13,}{row['size_mb']:>7} MB"
            f"{'1/' + format(1 / row['of_fp16'], '.1f'):>9}{row['tokens_per_second']:>8}{row['f1']:>7}"
            f"{row['f1_retained']:>7.0%}{row['perplexity']:>9.4g}"
        )
    out = write_results(
        "plm_compress",
        {
            "model": gguf.name,
            "activations": ACTIVATIONS,
            "curve": curve,
            "runs": [
                {
                    "options": options.model_dump(mode="json"),
                    "report": report.model_dump(mode="json"),
                    "target_met": report.target_met(),
                    "summary": report.lines(),
                }
                for options, report in runs
            ],
        },
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
