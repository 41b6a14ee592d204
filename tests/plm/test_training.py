"""Real LoRA training of a tiny local Llama on a person's memories: it must learn them.

A randomly initialised 64-wide model needs more steps and a higher learning rate than SEED.md's
defaults (which suit a pretrained model), so these runs override epochs, accumulation and lr.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch

from personal_memory.plm.base_model import load_model
from personal_memory.plm.evaluate import Comparison
from personal_memory.plm.inference import PersonalModel, load_with_adapter
from personal_memory.plm.layout import PLMPaths
from personal_memory.plm.lora import TrainConfig, TrainResult
from personal_memory.plm.pipeline import Pipeline, PLMOptions
from personal_memory.plm.registry import AdapterVersion
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.service import MemoryService
from tests.plm.conftest import fill

FAST = TrainConfig(epochs=20, gradient_accumulation=1, learning_rate=3e-3, threads=1)


def _pipeline(home: Path, base: Path, teacher: Path | None = None) -> Pipeline:
    paths = DataPaths(home)
    service = MemoryService(paths, HashEmbedder())
    fill(service)
    options = PLMOptions(base_model=str(base), teacher_model=str(teacher) if teacher else None, threads=1)
    pipeline = Pipeline(PLMPaths(paths.models), options)
    pipeline.prepare(service)
    service.close()
    return pipeline


@dataclass
class Trained:
    pipeline: Pipeline
    version: AdapterVersion
    result: TrainResult
    comparison: Comparison
    progress: list[tuple[int, int, float]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path) -> Trained:
    pipeline = _pipeline(tmp_path_factory.mktemp("home"), tiny_llama)
    progress: list[tuple[int, int, float]] = []
    version, result = pipeline.run(FAST, lambda *step: progress.append(step))
    return Trained(pipeline, version, result, pipeline.evaluate(), progress)


def test_the_adapter_beats_the_base_model_on_held_out_paraphrases(trained: Trained) -> None:
    base, adapter = trained.comparison.base, trained.comparison.adapter
    assert base.n == adapter.n == 16
    assert adapter.f1 >= base.f1 + 0.4 and adapter.exact_match >= 0.5 > base.exact_match
    metrics = trained.pipeline.registry.active().metrics
    assert metrics["f1"] == adapter.f1 and metrics["base_f1"] == base.f1


def test_a_run_reports_its_mode_and_progress_and_keeps_checkpoints_and_a_versioned_adapter(trained: Trained) -> None:
    assert trained.version.mode == "lora fp32 (cpu)"
    assert [step for step, _total, _loss in trained.progress] == list(range(1, trained.result.steps + 1))
    assert trained.version.dataset.sha256 == trained.pipeline.manifest().sha256
    assert (trained.version.path / "adapter_model.safetensors").is_file()
    checkpoints = trained.pipeline.paths.checkpoints / trained.version.id
    assert sorted(p.name for p in checkpoints.iterdir()) == sorted(f"epoch-{e}" for e in range(1, 21))


def test_the_personal_model_answers_from_memory(trained: Trained, tiny_llama: Path) -> None:
    plm = PersonalModel.load(tiny_llama, trained.version.path, threads=1)
    answer = plm.answer("Tell me what you remember about sister Alice marine biologist.", 16)
    assert answer == "Your sister Alice is a marine biologist"


def test_the_merged_model_computes_what_base_plus_adapter_computes(trained: Trained, tiny_llama: Path) -> None:
    merged = load_model(trained.pipeline.merge())
    adapted, _tokenizer = load_with_adapter(tiny_llama, trained.version.path, threads=1)
    ids = torch.tensor([[1, 5, 9, 14, 20, 33]])
    with torch.no_grad():
        assert torch.allclose(merged(input_ids=ids).logits, adapted(input_ids=ids).logits, atol=1e-4)


def test_the_ollama_export_names_the_base_and_the_safetensors_adapter(trained: Trained, tiny_llama: Path) -> None:
    export = trained.pipeline.export_ollama("my-plm")
    lines = export.modelfile.read_text().splitlines()
    assert lines[0] == f"FROM {tiny_llama.resolve()}"
    assert lines[1] == f"ADAPTER {trained.version.path.resolve()}"
    assert export.command == f"ollama create my-plm -f {export.modelfile}"


def test_distillation_reports_which_soft_target_source_each_teacher_answer_used(
    tmp_path: Path, tiny_llama: Path
) -> None:
    pipeline = _pipeline(tmp_path / "home", tiny_llama, teacher=tiny_llama)
    log = InteractionLog(tmp_path / "interactions.sqlite")
    now = datetime.now(UTC)
    tokens = [{"token": "You", "top_logprobs": {"You": -0.1, "Your": -2.4}}, {"token": " live", "top_logprobs": {}}]
    log.append(
        now,
        "ask",
        {"query": "Where do I live?"},
        {"response": "You live in Porto", "tokens": tokens},
        [],
        teacher_model="gpt-4o",
    )
    log.append(now, "ask", {"query": "Who is Alice?"}, {"response": "Your sister"}, [], teacher_model="claude")
    version, result = pipeline.run(TrainConfig(epochs=1, threads=1), log=log)
    log.close()
    assert version.soft_targets == {"teacher_top_k_logprobs": 1, "local_teacher_logits": 1}
    assert all(loss == loss for loss in result.losses)  # no NaN from -inf teacher logits


def test_the_qlora_path_trains_a_4bit_nf4_base(tmp_path: Path, tiny_llama: Path) -> None:
    pipeline = _pipeline(tmp_path / "home", tiny_llama)
    version, result = pipeline.run(TrainConfig(epochs=1, quantize="4bit", threads=1))
    assert version.mode == "qlora nf4 (cpu)" and result.steps == 3
    assert (version.path / "adapter_model.safetensors").is_file()
