"""``pmem train run`` under ``accelerate launch``: two real processes train one adapter data-parallel.

There is no GPU here: ``--multi_gpu`` spawns the processes (torchrun) and, without CUDA, they train on CPU
and average their gradients over gloo. (``accelerate launch --cpu`` starts a single process unless it
is given an MPI host file.)
"""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from personal_memory.plm.layout import PLMPaths
from personal_memory.plm.lora import TrainConfig, total_steps
from personal_memory.plm.pipeline import Pipeline, PLMOptions
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.service import MemoryService
from tests.plm.conftest import fill

EPOCHS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_accelerate_launch_trains_one_adapter_on_two_processes(isolated_home: Path, tiny_llama: Path) -> None:
    paths = DataPaths(isolated_home)
    service = MemoryService(paths, HashEmbedder())
    fill(service)
    pipeline = Pipeline(PLMPaths(paths.models), PLMOptions(base_model=str(tiny_llama), threads=1))
    manifest = pipeline.prepare(service)
    service.close()

    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    launch += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    launch += ["--main_process_port", str(_free_port())]
    train = ["-m", "personal_memory", "train", "run", "--epochs", str(EPOCHS), "--lr", "3e-3", "--grad-accum", "1"]
    env = os.environ | {
        "PMEM_EMBEDDER": "hash",
        "PMEM_BASE_MODEL": str(tiny_llama),
        "PMEM_TRAIN_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run([*launch, *train], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr

    # One process reports; it names both, and each trained on its half of every epoch's micro-batches.
    n_items = manifest.counts["examples"]
    shares = re.findall(r"2 processes \(data parallel: (\d+) \+ (\d+) examples\)", done.stdout)
    per_process = math.ceil(math.ceil(n_items / 4) / 2) * 4 * EPOCHS  # 9 micro-batches dealt to 2: 5 each
    assert shares == [(str(per_process), str(per_process))], done.stdout

    versions = pipeline.registry.load().versions
    assert len(versions) == 1
    version = versions[0]
    assert version.metrics["processes"] == 2
    assert version.metrics["steps"] == total_steps(n_items, TrainConfig(epochs=EPOCHS, gradient_accumulation=1), 2)
    assert sorted(p.name for p in (pipeline.paths.checkpoints / version.id).iterdir()) == sorted(
        f"epoch-{e}" for e in range(1, EPOCHS + 1)
    )
    assert [p.name for p in pipeline.paths.lora_adapter.iterdir() if p.is_dir()] == [version.id]

    # The adapter loads in a plain process and answers held-out paraphrases from memory.
    comparison = pipeline.evaluate()
    assert comparison.adapter.f1 >= comparison.base.f1 + 0.4, comparison
