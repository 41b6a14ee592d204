"""Structured pruning: remove the lowest-importance attention heads and FFN neurons for real.

The pruned model is a new, smaller model of the same architecture (Llama-style decoders:
``model.layers[i].self_attn.{q,k,v,o}_proj`` and ``mlp.{gate,up,down}_proj``) whose config says its
new shapes, so it saves and loads with plain ``transformers`` ``from_pretrained``. The config has one
``num_attention_heads`` and one ``intermediate_size`` for every layer, so every layer loses the same
number of units (each layer its own least important ones).

Grouped-query attention: query heads ``g * n_rep ... (g + 1) * n_rep - 1`` share key/value head ``g``.
With ``n_rep > 1`` every group keeps the same number of query heads and all key/value heads stay;
with ``n_rep == 1`` (multi-head attention) a removed head takes its key/value head with it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from personal_memory.plm.errors import PLMError

if TYPE_CHECKING:
    import torch

    from personal_memory.plm.compress.importance import Importance


class UnsupportedModelError(PLMError, TypeError):
    """The model is not a Llama-style decoder this module knows how to prune."""


class PruneConfig(BaseModel):
    ffn_share: float = Field(0.5, ge=0.0, lt=1.0, description="share of FFN neurons removed per layer")
    head_share: float = Field(0.25, ge=0.0, lt=1.0, description="share of query heads removed (rounded per group)")


@dataclass(frozen=True, slots=True)
class Shape:
    """The prunable dimensions of a decoder, read from its config."""

    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int

    @property
    def n_rep(self) -> int:
        return self.heads // self.kv_heads

    @classmethod
    def of(cls, config: Any) -> Shape:
        heads = int(config.num_attention_heads)
        return cls(
            layers=int(config.num_hidden_layers),
            heads=heads,
            kv_heads=int(getattr(config, "num_key_value_heads", None) or heads),
            head_dim=int(getattr(config, "head_dim", None) or config.hidden_size // heads),
            intermediate=int(config.intermediate_size),
        )


def decoder_layers(model: Any) -> list[Any]:
    """The decoder layers, after checking they have the projections pruning slices."""
    layers = getattr(getattr(model, "model", None), "layers", None)
    wanted = {"self_attn": ("q_proj", "k_proj", "v_proj", "o_proj"), "mlp": ("gate_proj", "up_proj", "down_proj")}
    ok = layers is not None and all(
        all(hasattr(getattr(layer, part, None), name) for part, names in wanted.items() for name in names)
        for layer in layers
    )
    if not ok:
        raise UnsupportedModelError(
            f"{type(model).__name__} is not a Llama-style decoder (model.layers[i].self_attn.q_proj ... "
            "mlp.down_proj): structured pruning supports Llama, Mistral, Qwen2 and SmolLM models."
        )
    return list(layers)


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """Per layer, the sorted indices of the query heads, key/value heads and FFN neurons that stay."""

    heads: list[list[int]]
    kv_heads: list[list[int]]
    neurons: list[list[int]]


def _top(scores: torch.Tensor, keep: int) -> list[int]:
    return sorted(int(i) for i in scores.topk(keep).indices)


def plan_pruning(importance: Importance, shape: Shape, config: PruneConfig) -> PrunePlan:
    """Keep the most important units of each layer; remove the same number from every layer."""
    keep_neurons = max(1, shape.intermediate - round(config.ffn_share * shape.intermediate))
    heads: list[list[int]] = []
    kv: list[list[int]] = []
    for layer in range(shape.layers):
        scores = importance.heads[layer]
        if shape.n_rep == 1:
            kept = _top(scores, max(1, shape.heads - round(config.head_share * shape.heads)))
            heads.append(kept)
            kv.append(kept)
            continue
        per_group = max(1, shape.n_rep - round(config.head_share * shape.n_rep))
        kept = []
        for group in range(shape.kv_heads):
            first = group * shape.n_rep
            kept += [first + i for i in _top(scores[first : first + shape.n_rep], per_group)]
        heads.append(kept)
        kv.append(list(range(shape.kv_heads)))
    neurons = [_top(importance.neurons[layer], keep_neurons) for layer in range(shape.layers)]
    return PrunePlan(heads=heads, kv_heads=kv, neurons=neurons)


def _rows(heads: list[int], head_dim: int) -> list[int]:
    return [h * head_dim + d for h in heads for d in range(head_dim)]


def apply_pruning(model: Any, plan: PrunePlan) -> Any:
    """A new, smaller model holding only the kept units' weights; ``model`` is left as it was."""
    import torch
    from transformers import AutoModelForCausalLM

    shape = Shape.of(model.config)
    layers = decoder_layers(model)
    config = copy.deepcopy(model.config)
    config.head_dim = shape.head_dim  # no longer hidden_size // num_attention_heads
    config.num_attention_heads = len(plan.heads[0])
    config.num_key_value_heads = len(plan.kv_heads[0])
    config.intermediate_size = len(plan.neurons[0])
    names = {id(module): name for name, module in model.named_modules()}
    state = dict(model.state_dict())
    with torch.no_grad():
        for i, layer in enumerate(layers):
            q_rows = torch.tensor(_rows(plan.heads[i], shape.head_dim))
            kv_rows = torch.tensor(_rows(plan.kv_heads[i], shape.head_dim))
            neurons = torch.tensor(plan.neurons[i])
            attn, mlp = layer.self_attn, layer.mlp
            cuts = [
                (attn.q_proj, q_rows, 0), (attn.k_proj, kv_rows, 0), (attn.v_proj, kv_rows, 0),
                (attn.o_proj, q_rows, 1), (mlp.gate_proj, neurons, 0), (mlp.up_proj, neurons, 0),
                (mlp.down_proj, neurons, 1),
            ]  # fmt: skip
            for linear, index, dim in cuts:
                prefix = names[id(linear)]
                state[f"{prefix}.weight"] = linear.weight.index_select(dim, index.to(linear.weight.device)).clone()
                if linear.bias is not None and dim == 0:
                    state[f"{prefix}.bias"] = linear.bias.index_select(0, index.to(linear.bias.device)).clone()
    pruned = AutoModelForCausalLM.from_config(config, dtype=model.dtype)
    pruned.load_state_dict(state, strict=True)
    pruned.generation_config = copy.deepcopy(model.generation_config)
    return pruned.to(model.device).eval()


def count_parameters(model: Any) -> int:
    """Parameters the model holds, counting packed quantised weights by their logical size."""
    import math

    seen: set[int] = set()
    total = 0
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if id(param) in seen:
                continue  # tied weights (embeddings and LM head) count once
            seen.add(id(param))
            quant_shape = getattr(getattr(param, "quant_state", None), "shape", None)  # bitsandbytes 4-bit
            total += math.prod(quant_shape) if quant_shape is not None else param.numel()
        weight = getattr(module, "weight", None)
        if callable(weight):  # torch dynamic int8 Linear: packed weights, not Parameters
            bias = module.bias()
            total += weight().numel() + (bias.numel() if bias is not None else 0)
    return total
