"""Finding the base model offline, choosing LoRA or QLoRA, and keeping adapter versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personal_memory.plm.base_model import SourceKind, resolve_base_model
from personal_memory.plm.data import DatasetManifest
from personal_memory.plm.errors import AdapterError, BaseModelError
from personal_memory.plm.lora import TrainConfig, choose_mode, total_steps
from personal_memory.plm.registry import AdapterRegistry, AdapterVersion


def test_no_configured_base_model_says_how_to_configure_one() -> None:
    with pytest.raises(BaseModelError, match="No base model is configured.*PMEM_BASE_MODEL"):
        resolve_base_model(None)


def test_a_base_model_that_is_not_on_this_machine_is_reported_as_not_found(tmp_path: Path) -> None:
    with pytest.raises(BaseModelError, match="was not found on this machine"):
        resolve_base_model(str(tmp_path / "Llama-3.2-3B"))
    with pytest.raises(BaseModelError, match="ollama pull smollm2"):
        resolve_base_model("ollama:smollm2:135m", tmp_path)


def test_local_folders_and_gguf_files_are_recognised(tiny_llama: Path, tmp_path: Path) -> None:
    assert resolve_base_model(str(tiny_llama)).kind is SourceKind.HF
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    ref = resolve_base_model(str(gguf))
    assert ref.kind is SourceKind.GGUF and ref.ollama_from == str(gguf)


def test_an_ollama_model_resolves_to_the_gguf_blob_its_manifest_names(tmp_path: Path) -> None:
    digest = "sha256:" + "ab" * 32
    manifest = tmp_path / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m"
    manifest.parent.mkdir(parents=True)
    layers = [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "cd" * 32},
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest},
    ]
    manifest.write_text(json.dumps({"layers": layers}))
    blob = tmp_path / "blobs" / digest.replace(":", "-")
    blob.parent.mkdir()
    blob.write_bytes(b"GGUF")
    ref = resolve_base_model("ollama:smollm2:135m", tmp_path)
    assert ref.kind is SourceKind.OLLAMA and ref.path == blob and ref.ollama_from == "smollm2:135m"


def test_qlora_is_chosen_with_cuda_and_plain_lora_on_cpu() -> None:
    assert choose_mode("auto", cuda_available=True).label == "qlora nf4 (cuda)"
    assert choose_mode("auto", cuda_available=False).label == "lora fp32 (cpu)"
    assert choose_mode("4bit", cuda_available=False).label == "qlora nf4 (cpu)"
    assert choose_mode("none", cuda_available=True).label == "lora bf16 (cuda)"


def test_defaults_are_seed_hyper_parameters() -> None:
    config = TrainConfig()
    assert (config.lora_r, config.lora_alpha, config.lora_dropout) == (16, 32, 0.05)
    assert set(config.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert (config.epochs, config.batch_size, config.gradient_accumulation, config.learning_rate) == (3, 4, 4, 2e-4)
    assert (config.temperature, config.alpha) == (2.0, 0.5)
    assert total_steps(36, config) == 3 * 3  # 9 micro-batches of 4 -> 3 optimiser steps per epoch


def _version(version_id: str, folder: Path) -> AdapterVersion:
    manifest = DatasetManifest(memory_ids=[], counts={}, type_weights={}, correction_boost=3.0, files={}, sha256="0")
    return AdapterVersion(id=version_id, base_model="tiny", path=folder / version_id, mode="lora", dataset=manifest)


def test_rollback_returns_to_the_adapter_trained_before(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path)
    with pytest.raises(AdapterError, match="No trained adapter"):
        registry.rollback()
    registry.add(_version("v1", tmp_path))
    registry.add(_version("v2", tmp_path))
    registry.record_metrics("v2", {"f1": 0.5})
    assert registry.active().id == "v2" and registry.active().metrics == {"f1": 0.5}
    assert registry.rollback().id == "v1"
    assert AdapterRegistry(tmp_path).load().versions[1].rolled_back
    with pytest.raises(AdapterError, match="nothing to roll back to"):
        registry.rollback()
