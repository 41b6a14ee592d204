"""Quantisation: int8 on CPU (chosen automatically), 4-bit NF4 with bitsandbytes (CUDA's choice, forced here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from personal_memory.plm.base_model import load_model
from personal_memory.plm.compress.prune import count_parameters
from personal_memory.plm.compress.quantize import (
    QuantMethod,
    choose_quantization,
    load_quantized,
    pack_int8,
    save_quantized,
    unpack_int8,
)
from personal_memory.plm.compress.report import weights_size


@pytest.fixture(autouse=True)
def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def test_auto_quantisation_is_4bit_with_cuda_and_int8_on_cpu() -> None:
    assert choose_quantization("auto", cuda_available=True) is QuantMethod.NF4
    assert choose_quantization("auto", cuda_available=False) is QuantMethod.INT8
    assert choose_quantization("4bit", cuda_available=False) is QuantMethod.NF4
    assert choose_quantization("none", cuda_available=True) is QuantMethod.NONE


def test_int8_packing_keeps_every_weight_within_half_a_step_of_its_row_scale() -> None:
    import torch

    weight = torch.randn(16, 32)
    packed = pack_int8({"w": weight, "norm": torch.ones(32)})
    assert packed["w@int8"].dtype == torch.int8 and packed["norm"].dtype == torch.float32
    error = (unpack_int8(packed)["w"] - weight).abs()
    assert bool((error <= packed["w@scale"] / 2 + 1e-7).all())


def _logits(model, ids):  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits.flatten()


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
