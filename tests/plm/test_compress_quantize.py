"""Quantisation: the CPU candidates and the quality guard that picks one, int8, NF4 (CUDA's choice, forced here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from personal_memory.plm.base_model import load_model
from personal_memory.plm.compress.prune import count_parameters
from personal_memory.plm.compress.quantize import (
    CPU_CANDIDATES,
    GROUP,
    QuantMethod,
    load_quantized,
    pack_int4,
    pack_int8,
    quantization_candidates,
    save_quantized,
    unpack,
)
from personal_memory.plm.compress.report import weights_size
from personal_memory.plm.compress.runner import quantise_with_guard


@pytest.fixture(autouse=True)
def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def test_auto_quantisation_is_4bit_with_cuda_and_the_cpu_candidates_otherwise() -> None:
    assert quantization_candidates("auto", cuda_available=True) == (QuantMethod.NF4,)
    assert quantization_candidates("auto", cuda_available=False) == CPU_CANDIDATES
    assert quantization_candidates("int4", cuda_available=False) == (QuantMethod.INT4,)
    assert quantization_candidates("int8", cuda_available=False) == (QuantMethod.INT8,)
    assert quantization_candidates("4bit", cuda_available=False) == (QuantMethod.NF4,)
    assert quantization_candidates("none", cuda_available=True) == (QuantMethod.NONE,)


def _agreement(reference: Path):  # type: ignore[no-untyped-def]
    """A real quality measure: the share of positions where a model's greedy token is the float model's."""
    import torch

    ids = torch.tensor([[1, 5, 6, 7, 8, 9, 10, 11]])
    expected = _logits_of(load_model(reference), ids).argmax(-1)
    return lambda model: float((_logits_of(model, ids).argmax(-1) == expected).float().mean())


def test_the_guard_keeps_the_smallest_candidate_when_any_quality_will_do(tiny_llama: Path, tmp_path: Path) -> None:
    choice = quantise_with_guard(tiny_llama, tmp_path / "q", CPU_CANDIDATES, _agreement(tiny_llama), 1.0, 0.0)
    assert [c.method for c in choice.candidates] == ["int4"] and choice.chosen == "int4" and choice.met
    assert choice.candidates[0].size_bytes == weights_size(tmp_path / "q")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q"] and "smallest" in choice.reason


def test_the_guard_tries_every_candidate_and_keeps_the_best_when_the_floor_is_out_of_reach(
    tiny_llama: Path, tmp_path: Path
) -> None:
    score = _agreement(tiny_llama)
    choice = quantise_with_guard(tiny_llama, tmp_path / "q", CPU_CANDIDATES, score, 1.0, 1.01)
    assert [c.method for c in choice.candidates] == [m.value for m in CPU_CANDIDATES] and not choice.met
    sizes = [c.size_bytes for c in choice.candidates]
    assert sizes == sorted(sizes)  # smallest first
    best = max(c.f1 for c in choice.candidates)
    assert choice.chosen == max((c for c in choice.candidates if c.f1 == best), key=lambda c: c.size_bytes).method
    assert score(load_quantized(tmp_path / "q")) == best and "none of 3" in choice.reason
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q"]


def test_int4_with_int8_embeddings_stores_the_embeddings_and_lm_head_per_row_and_the_rest_in_groups(
    tiny_llama: Path, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    save_quantized(tiny_llama, tmp_path / "q", QuantMethod.INT4_EMB8)
    keys = set(load_file(tmp_path / "q" / QuantMethod.INT4_EMB8.weights_file))
    assert {k for k in keys if k.endswith("@int8")} == {"model.embed_tokens.weight@int8", "lm_head.weight@int8"}
    assert "model.layers.0.mlp.down_proj.weight@int4" in keys
    ids = torch.tensor([[1, 5, 6, 7, 8]])
    quantised, float_model = _logits(load_quantized(tmp_path / "q"), ids), _logits(load_model(tiny_llama), ids)
    assert torch.cosine_similarity(quantised, float_model, dim=0) > 0.97


def test_int8_packing_keeps_every_weight_within_half_a_step_of_its_row_scale() -> None:
    import torch

    weight = torch.randn(16, 32)
    packed = pack_int8({"w": weight, "norm": torch.ones(32)})
    assert packed["w@int8"].dtype == torch.int8 and packed["norm"].dtype == torch.float32
    error = (unpack(packed)["w"] - weight).abs()
    assert bool((error <= packed["w@scale"] / 2 + 1e-7).all())


def test_int4_packing_keeps_every_weight_within_half_a_step_of_its_group_and_packs_two_codes_a_byte() -> None:
    import torch

    weight = torch.randn(8, 4 * GROUP) * torch.linspace(0.01, 10, 8)[:, None]  # rows of very different ranges
    packed = pack_int4(
        {"w": weight, "odd": torch.randn(3, GROUP + 8), "norm": torch.ones(32), "half": torch.randn(2, 32)}
    )
    assert packed["w@int4"].dtype == torch.uint8 and packed["w@int4"].shape == (8, 2 * GROUP)
    assert packed["w@scale"].shape == packed["w@min"].shape == (8, 4) and packed["odd"].dtype == torch.float32
    step = packed["w@scale"].float().repeat_interleave(GROUP, dim=1)
    unpacked = unpack(packed)
    assert bool(((unpacked["w"] - weight).abs() <= step / 2 + 1e-3 * step).all())  # fp16 min adds a hair
    assert torch.equal(unpacked["odd"], packed["odd"]) and set(unpacked) == {"w", "odd", "norm", "half"}
    assert packed["half@scale"].shape == (2, 1)  # a 32-wide row is one group of 32


def test_int4_folder_is_a_sixth_of_fp32_on_disk_and_loads_close_to_the_float_model(
    tiny_llama: Path, tmp_path: Path
) -> None:
    import torch

    save_quantized(tiny_llama, tmp_path / "int4", QuantMethod.INT4)
    assert weights_size(tmp_path / "int4") < weights_size(tiny_llama) / 6
    model, float_model = load_quantized(tmp_path / "int4"), load_model(tiny_llama)
    assert count_parameters(model) == count_parameters(float_model)
    ids = torch.tensor([[1, 5, 6, 7, 8]])
    assert torch.cosine_similarity(_logits(model, ids), _logits(float_model, ids), dim=0) > 0.97
    out = model.generate(ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    assert out.shape == (1, 9)


def _logits_of(model, ids):  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits


def _logits(model, ids):  # type: ignore[no-untyped-def]
    return _logits_of(model, ids).flatten()


def test_int8_folder_is_a_third_of_fp32_on_disk_and_runs_int8_linears_close_to_the_float_model(
    tiny_llama: Path, tmp_path: Path
) -> None:
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    save_quantized(tiny_llama, tmp_path / "int8", QuantMethod.INT8)
    assert weights_size(tmp_path / "int8") < weights_size(tiny_llama) / 3
    model, float_model = load_quantized(tmp_path / "int8"), load_model(tiny_llama)
    assert sum(isinstance(m, DynamicInt8Linear) for m in model.modules()) == 2 * 7 + 1  # 7 per layer + LM head
    assert count_parameters(model) == count_parameters(float_model)
    ids = torch.tensor([[1, 5, 6, 7, 8]])
    assert torch.cosine_similarity(_logits(model, ids), _logits(float_model, ids), dim=0) > 0.99


def test_4bit_nf4_folder_loads_back_in_4bit_with_plain_transformers(tiny_llama: Path, tmp_path: Path) -> None:
    import torch
    from bitsandbytes.nn import Linear4bit

    save_quantized(tiny_llama, tmp_path / "nf4", QuantMethod.NF4)
    model = load_quantized(tmp_path / "nf4")
    assert sum(isinstance(m, Linear4bit) for m in model.modules()) == 2 * 7
    assert count_parameters(model) == count_parameters(load_model(tiny_llama))
    out = model.generate(torch.tensor([[1, 5, 6]]), max_new_tokens=4, min_new_tokens=4, do_sample=False)
    assert out.shape == (1, 7)
