"""Quantisation: 4-bit NF4 (bitsandbytes) with CUDA; on CPU ``CPU_CANDIDATES``, smallest first.

The runner's quality guard keeps the first CPU candidate whose held-out F1 stays high enough.

- ``int4`` (CPU): on disk, every 2-D weight (linear layers and embeddings) as 4-bit codes, two per
  byte, in groups of ``GROUP`` along each row (a smaller power of 2 dividing the row, down to 16,
  where 64 does not) with an fp16 scale and minimum per group (asymmetric, like GGUF's Q4_1: 4.5
  bits per weight) in ``model.int4.safetensors``. Loaded, the weights are dequantised to float32
  (weight-only quantisation: the size on disk and to ship shrinks, the compute is the float model's).
- ``int4-emb8`` (CPU): ``int4``, but the input embeddings (and a LM head, tied or not) as int8 with one
  float scale per row, dequantised to float too.
- ``int8-weights`` (CPU): every 2-D weight as int8 per row (as ``int8``), dequantised to float at load:
  weight-only, the float model's compute and (nearly) its quality.
- ``nf4``: ``plm.base_model.load_model(..., quantize_4bit=True)`` then ``save_pretrained``: a folder
  plain ``transformers`` loads back in 4-bit (bitsandbytes' own serialisation).
- ``int8`` (CPU): on disk, every 2-D weight (linear layers and embeddings) as int8 with one float
  scale per row (symmetric, like GGUF's Q8_0 but per row) in ``model.int8.safetensors``; loaded, the
  linear layers run as torch dynamic int8 Linear (fbgemm kernels: int8 weights, activations quantised
  per call), about 3x faster than fp32 per matmul on this CPU but lossy: activations are quantised
  per tensor, and LLM activations have outlier features. A LM head tied to the embeddings stays the
  embeddings' float matrix.

torch marks ``torch.ao.quantization`` deprecated in favour of torchao, which is not installed here;
its dynamic int8 kernels are the fast CPU path that ships with torch itself.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from personal_memory.plm.base_model import load_model, load_tokenizer
from personal_memory.plm.errors import PLMError

if TYPE_CHECKING:
    import torch

Requested = Literal["auto", "int4", "int8", "4bit", "none"]
MARKER = "pmem_quantization.json"
GROUP = 64
MIN_GROUP = 16
_Q, _SCALE, _Q4, _MIN = "@int8", "@scale", "@int4", "@min"


class QuantMethod(StrEnum):
    INT4 = "int4"
    INT4_EMB8 = "int4-emb8"
    INT8_WEIGHTS = "int8-weights"
    INT8 = "int8"
    NF4 = "nf4"
    NONE = "none"

    @property
    def label(self) -> str:
        return {
            "int4": f"int4 weights (groups of {GROUP}, fp16 scale + min), dequantised to float (cpu)",
            "int4-emb8": f"int4 weights (groups of {GROUP}), int8 embeddings per row, dequantised to float (cpu)",
            "int8-weights": "int8 weights per row, dequantised to float (cpu)",
            "int8": "int8 weights, torch dynamic int8 Linear (cpu)",
            "nf4": "4-bit NF4, bitsandbytes",
            "none": "not quantised",
        }[self.value]

    @property
    def weights_file(self) -> str:
        return f"model.{self.value}.safetensors"


CPU_CANDIDATES = (QuantMethod.INT4, QuantMethod.INT4_EMB8, QuantMethod.INT8_WEIGHTS)
"""What ``auto`` tries on CPU, smallest on disk first (the runner keeps the first that keeps enough quality)."""


def quantization_candidates(requested: Requested, cuda_available: bool) -> tuple[QuantMethod, ...]:
    """``auto``: 4-bit NF4 with CUDA, ``CPU_CANDIDATES`` on CPU; otherwise the one method asked for."""
    if requested == "auto":
        return (QuantMethod.NF4,) if cuda_available else CPU_CANDIDATES
    forced = {"int4": QuantMethod.INT4, "int8": QuantMethod.INT8, "4bit": QuantMethod.NF4, "none": QuantMethod.NONE}
    return (forced[requested],)


@contextmanager
def _torch_ao_deprecations() -> Iterator[None]:
    """Silence only the deprecation notices torch 2.13 raises around its (working) dynamic int8 path."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel")
        yield


def _tied_aliases(state: dict[str, torch.Tensor]) -> dict[str, str]:
    """Keys whose tensor is another key's tensor (tied weights): alias -> first key."""
    first: dict[tuple[int, tuple[int, ...]], str] = {}
    aliases: dict[str, str] = {}
    for key, tensor in state.items():
        ident = (tensor.data_ptr(), tuple(tensor.shape))
        if ident in first:
            aliases[key] = first[ident]
        else:
            first[ident] = key
    return aliases


def pack_int8(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """2-D float tensors -> int8 rows plus a float32 scale per row; everything else unchanged."""
    import torch

    packed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if tensor.ndim == 2 and tensor.is_floating_point():
            scale = (tensor.float().abs().amax(1, keepdim=True) / 127).clamp(min=1e-12)
            packed[key + _Q] = (tensor.float() / scale).round().clamp(-127, 127).to(torch.int8)
            packed[key + _SCALE] = scale
        else:
            packed[key] = tensor.contiguous()
    return packed


def _group(tensor: torch.Tensor) -> int:
    """Group width for a 2-D float tensor: the largest power of 2 up to ``GROUP`` dividing its rows (>= 16), else 0."""
    if tensor.ndim != 2 or not tensor.is_floating_point():
        return 0
    group = math.gcd(tensor.shape[1], GROUP)
    return group if group >= MIN_GROUP else 0


def pack_int4(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """2-D float tensors -> 4-bit codes two per byte, with an fp16 scale and minimum per group of a row."""
    import torch

    packed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        group = _group(tensor)
        if not group:
            packed[key] = tensor.contiguous()
            continue
        groups = tensor.float().reshape(tensor.shape[0], -1, group)
        low = groups.amin(-1, keepdim=True).half()
        scale = ((groups.amax(-1, keepdim=True) - low.float()) / 15).clamp(min=1e-8).half()
        codes = ((groups - low.float()) / scale.float()).round().clamp(0, 15).to(torch.uint8).reshape(tensor.shape)
        packed[key + _Q4] = codes[:, 0::2] | (codes[:, 1::2] << 4)
        packed[key + _SCALE], packed[key + _MIN] = scale.squeeze(-1), low.squeeze(-1)
    return packed


def unpack(packed: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Float tensors back from ``pack_int8`` and ``pack_int4`` output (or a mix of both)."""
    import torch

    state: dict[str, torch.Tensor] = {}
    for key, tensor in packed.items():
        if key.endswith(_Q):
            name = key.removesuffix(_Q)
            state[name] = tensor.float() * packed[name + _SCALE]
        elif key.endswith(_Q4):
            name = key.removesuffix(_Q4)
            scale, low = packed[name + _SCALE].float()[..., None], packed[name + _MIN].float()[..., None]
            codes = torch.stack([tensor & 15, tensor >> 4], dim=-1).reshape(*scale.shape[:2], -1)
            state[name] = (codes.float() * scale + low).reshape(tensor.shape[0], -1)
        elif not key.endswith((_SCALE, _MIN)):
            state[key] = tensor
    return state


def _embedding_keys(model: Any) -> set[str]:
    """State keys of the input embeddings and the LM head (one key when they are tied)."""
    weights = [m.weight for m in (model.get_input_embeddings(), model.get_output_embeddings()) if m is not None]
    return {name for name, p in model.named_parameters() if any(p is w for w in weights)}


def _pack(model: Any, state: dict[str, torch.Tensor], method: QuantMethod) -> dict[str, torch.Tensor]:
    if method in (QuantMethod.INT8, QuantMethod.INT8_WEIGHTS):
        return pack_int8(state)
    wide = _embedding_keys(model) if method is QuantMethod.INT4_EMB8 else set()
    return pack_int4({k: v for k, v in state.items() if k not in wide}) | pack_int8(
        {k: v for k, v in state.items() if k in wide}
    )


def int8_linears(model: Any) -> Any:
    """Swap the model's Linear layers for torch dynamic int8 ones (a tied LM head stays float)."""
    import torch
    from torch import nn
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    embeddings = model.get_input_embeddings().weight
    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and module.weight is not embeddings
    }
    with _torch_ao_deprecations():
        return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)


def save_quantized(source: Path, target: Path, method: QuantMethod) -> None:
    """Quantise the model saved in ``source`` into the folder ``target``."""
    from safetensors.torch import save_file

    if method is QuantMethod.NONE:
        raise PLMError("Nothing to save: quantisation is switched off.")
    target.mkdir(parents=True, exist_ok=True)
    if method is QuantMethod.NF4:
        model = load_model(source, quantize_4bit=True)
        model.save_pretrained(target)
    else:
        model = load_model(source)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        aliases = _tied_aliases(state)
        weights = {k: v for k, v in state.items() if k not in aliases}
        save_file(_pack(model, weights, method), target / method.weights_file)
        model.config.save_pretrained(target)
        model.generation_config.save_pretrained(target)
        (target / "tied.json").write_text(json.dumps(aliases))
    load_tokenizer(source).save_pretrained(target)
    (target / MARKER).write_text(json.dumps({"method": method.value, "label": method.label}))


def load_quantized(folder: Path) -> Any:
    """The quantised model saved by ``save_quantized``, ready to generate."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    method = QuantMethod(json.loads((folder / MARKER).read_text())["method"])
    if method is QuantMethod.NF4:  # the folder's config carries its bitsandbytes quantization_config
        device = 0 if torch.cuda.is_available() else "cpu"
        return AutoModelForCausalLM.from_pretrained(folder, device_map={"": device}, local_files_only=True).eval()
    state = unpack(load_file(folder / method.weights_file))
    for alias, key in json.loads((folder / "tied.json").read_text()).items():
        state[alias] = state[key]
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(folder), dtype=torch.float32)
    model.load_state_dict(state, strict=True)
    model.generation_config = GenerationConfig.from_pretrained(folder)
    return int8_linears(model.eval()) if method is QuantMethod.INT8 else model.eval()
