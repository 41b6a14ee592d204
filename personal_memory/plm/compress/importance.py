"""Importance of every attention head and FFN neuron for this user (SEED.md phase 3).

A unit's importance is how much it writes into the residual stream on the user's own text: the mean,
over every real token, of the squared norm of its output after the layer's output projection,
``||W_o[:, head] z_head||^2`` for a head and ``a_j^2 ||W_down[:, j]||^2`` for an FFN neuron (forward
pre-hooks on ``o_proj`` and ``down_proj`` see ``z`` and ``a``). This is the structured form of Wanda's
|weight| x ||activation|| (Sun et al. 2023; FLAP, An et al. 2024): a unit that writes nothing can go
without changing the output, and the score needs no gradient.

It replaces first-order Taylor scores (|gradient x activation|): on SmolLM2-135M + a personal
adapter both rank about equally well (held-out perplexity 1.60 -> 1.73 vs 1.75 after removing 10 % of
FFN neurons, 6.9 vs 7.8 after 50 %), but this one needs no backward pass (5x faster on CPU) and does
not depend on gradients, which vanish once the personal model has learnt its data to near-zero loss.

The score is computed on the user's own data (question/answer pairs of the kept memories, every
token) and on the pruned domains' texts, each normalised to mean 1 within its layer. A unit loses
``contrast x`` what it does on the pruned domains beyond what it does for the user, so units that
mostly serve domains the user never activates rank last, while units every text relies on (the
user's included) are not penalised for also serving the pruned domains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from personal_memory.plm.batches import collate
from personal_memory.plm.compress.prune import Shape, decoder_layers

if TYPE_CHECKING:
    import torch

    from personal_memory.plm.batches import Encoded

CONTRAST = 0.5


@dataclass(frozen=True, slots=True)
class Importance:
    """Scores ``[layers, heads]`` and ``[layers, intermediate]``; higher means keep."""

    heads: torch.Tensor
    neurons: torch.Tensor

    def normalised(self) -> Importance:
        """Each layer's scores divided by their mean, so data sets of different sizes compare."""
        return Importance(
            heads=self.heads / self.heads.mean(1, keepdim=True).clamp(min=1e-12),
            neurons=self.neurons / self.neurons.mean(1, keepdim=True).clamp(min=1e-12),
        )


def output_importance(model: Any, items: Sequence[Encoded], pad_id: int, batch_size: int = 4) -> Importance:
    """Mean squared norm, per token, of what each head and FFN neuron adds to the residual stream."""
    import torch

    shape = Shape.of(model.config)
    layers = decoder_layers(model)
    heads = torch.zeros(shape.layers, shape.heads)
    neurons = torch.zeros(shape.layers, shape.intermediate)
    mask: list[torch.Tensor] = []  # the current batch's real (non-padding) tokens

    def head_hook(index: int, o_proj: Any) -> Any:
        def hook(_module: Any, args: tuple[torch.Tensor, ...]) -> None:
            z = args[0][mask[0]].float().view(-1, shape.heads, shape.head_dim)  # [tokens, heads, head_dim]
            w = o_proj.weight.float().view(-1, shape.heads, shape.head_dim)  # [hidden, heads, head_dim]
            heads[index] += torch.einsum("thd,ohd->tho", z, w).square().sum((0, 2)).cpu()

        return hook

    def neuron_hook(index: int, down_proj: Any) -> Any:
        def hook(_module: Any, args: tuple[torch.Tensor, ...]) -> None:
            a2 = args[0][mask[0]].float().square().sum(0)
            neurons[index] += (a2 * down_proj.weight.float().square().sum(0)).cpu()

        return hook

    handles = [
        layer.self_attn.o_proj.register_forward_pre_hook(head_hook(i, layer.self_attn.o_proj))
        for i, layer in enumerate(layers)
    ]
    handles += [
        layer.mlp.down_proj.register_forward_pre_hook(neuron_hook(i, layer.mlp.down_proj))
        for i, layer in enumerate(layers)
    ]
    was_training = model.training
    device = next(model.parameters()).device
    tokens = 0
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(items), batch_size):
                batch = collate(items[start : start + batch_size], pad_id)
                mask[:] = [batch["attention_mask"].to(device).bool()]
                model(input_ids=batch["input_ids"].to(device), attention_mask=mask[0].long())
                tokens += int(mask[0].sum())
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return Importance(heads=heads / max(tokens, 1), neurons=neurons / max(tokens, 1))


def contrast(keep: Importance, pruned: Importance | None, weight: float = CONTRAST) -> Importance:
    """``keep - weight * max(0, pruned - keep)`` on layer-normalised scores; just ``keep`` without pruned data."""
    kept = keep.normalised()
    if pruned is None or weight == 0:
        return kept
    other = pruned.normalised()
    return Importance(
        heads=kept.heads - weight * (other.heads - kept.heads).clamp(min=0),
        neurons=kept.neurons - weight * (other.neurons - kept.neurons).clamp(min=0),
    )


def unit_importance(
    model: Any, keep_items: Sequence[Encoded], pruned_items: Sequence[Encoded], pad_id: int, weight: float = CONTRAST
) -> Importance:
    """Scores for pruning: the user's own data against the pruned domains' texts (when there are any)."""
    keep = output_importance(model, keep_items, pad_id)
    pruned = output_importance(model, pruned_items, pad_id) if pruned_items else None
    return contrast(keep, pruned, weight)
