"""Pruning and compression on a real small model: SmolLM2-135M-Instruct, personalised, then compressed.

Not run in CI (many minutes of CPU). Finds the GGUF like ``plm_train.py`` (see its docstring to fetch it
once); without it, prints SKIP and exits 0. In a throw-away data dir: remember ``plm_train.MEMORIES``,
prepare, train a LoRA adapter, then ``run_compression`` with domain activations shaped like SEED.md's
example table, and write ``bench/results/plm_compress.json``: parameters, size on disk, tokens/s,
held-out quality and perplexity for the original, pruned, recovered and quantised models.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import write_results
from plm_train import find_gguf, prepared_pipeline

from personal_memory.plm.compress import CompressOptions, run_compression
from personal_memory.plm.compress.prune import PruneConfig
from personal_memory.plm.compress.recover import RECOVERY
from personal_memory.plm.lora import TrainConfig

# SEED.md's example activation counts, on the lexicon's domain names (medicine -> health, cooking -> food).
ACTIVATIONS = {"drupal": 450, "python": 300, "government": 150, "react": 80, "health": 2, "finance": 5, "food": 13}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", help="path of SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--train-epochs", type=int, default=3)
    parser.add_argument("--train-lr", type=float, default=1e-3)
    parser.add_argument("--recover-epochs", type=int, default=2)
    parser.add_argument("--ffn-share", type=float, default=0.5)
    parser.add_argument("--head-share", type=float, default=0.25)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--home", type=Path, help="data dir to keep (default: a temporary one)")
    args = parser.parse_args()
    gguf = find_gguf(args.gguf)
    if gguf is None:
        print("SKIP: SmolLM2-135M-Instruct GGUF not found; see bench/plm_train.py's docstring to fetch it.")
        return 0
    home = args.home or Path(tempfile.mkdtemp(prefix="pmem-bench-compress-"))
    pipeline, _manifest, memories = prepared_pipeline(home, gguf, args.threads)

    def progress(step: int, total: int, loss: float) -> None:
        print(f"  step {step}/{total} loss {loss:.4f}", flush=True)

    print("training the personal adapter", flush=True)
    config = TrainConfig(
        epochs=args.train_epochs, gradient_accumulation=1, learning_rate=args.train_lr, threads=args.threads
    )
    pipeline.run(config, progress)
    options = CompressOptions(
        prune=PruneConfig(ffn_share=args.ffn_share, head_share=args.head_share),
        recovery=RECOVERY.model_copy(update={"epochs": args.recover_epochs, "threads": args.threads}),
        threads=args.threads,
    )
    report = run_compression(pipeline, memories, ACTIVATIONS, options, lambda line: print(line, flush=True), progress)
    for line in report.lines():
        print(line)
    out = write_results(
        "plm_compress",
        {
            "model": gguf.name,
            "activations": ACTIVATIONS,
            "options": options.model_dump(mode="json"),
            "report": report.model_dump(mode="json"),
            "target_met": report.target_met(),
            "summary": report.lines(),
        },
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
