"""Importance of every attention head and FFN neuron for this user (SEED.md phase 3).

Each unit's output is multiplied by a gate fixed at 1 (a forward pre-hook on ``o_proj`` scales each
head's slice of its input, one on ``down_proj`` each neuron's activation). The gate's gradient is
``sum(activation * dL/d activation)`` over the unit's outputs: the first-order Taylor estimate of how
much the loss changes when the unit is removed (gradient x activation, Molchanov et al. 2019; the
head version is Michel et al.'s "Are Sixteen Heads Really Better than One?"). Importance is the
absolute gate gradient summed over batches, so a unit that does nothing scores exactly 0.

The loss is the language-model loss of ``distill.distillation_loss`` (hard targets), on the user's own
data (question/answer pairs of the kept memories) and on the pruned domains' texts. The final score
is ``keep - contrast * pruned``, each normalised to mean 1 within its layer: units the user relies on
rank first, units that serve only domains the user never activates rank last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from personal_memory.plm.batches import collate
from personal_memory.plm.compress.prune import Shape, decoder_layers
from personal_memory.plm.distill import distillation_loss

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
        """Each layer's scores divided by their mean, so data sets with different losses compare."""
        return Importance(
            heads=self.heads / self.heads.mean(1, keepdim=True).clamp(min=1e-12),
            neurons=self.neurons / self.neurons.mean(1, keepdim=True).clamp(min=1e-12),
        )


def taylor_importance(model: Any, items: Sequence[Encoded], pad_id: int, batch_size: int = 4) -> Importance:
    """Sum over batches of |dL/d gate| for every head and neuron (the model's weights get no gradient)."""
    import torch

    shape = Shape.of(model.config)
    layers = decoder_layers(model)
    device = next(model.parameters()).device
    head_gates = torch.ones(shape.layers, shape.heads, device=device, requires_grad=True)
    neuron_gates = torch.ones(shape.layers, shape.intermediate, device=device, requires_grad=True)
    heads = torch.zeros(shape.layers, shape.heads)
    neurons = torch.zeros(shape.layers, shape.intermediate)

    def gate_heads(index: int) -> Any:
        def hook(_module: Any, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
            x = args[0]
            split = x.view(*x.shape[:-1], shape.heads, shape.head_dim) * head_gates[index, :, None].to(x.dtype)
            return (split.view_as(x), *args[1:])

        return hook

    def gate_neurons(index: int) -> Any:
        def hook(_module: Any, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
            return (args[0] * neuron_gates[index].to(args[0].dtype), *args[1:])

        return hook

    handles = [layer.self_attn.o_proj.register_forward_pre_hook(gate_heads(i)) for i, layer in enumerate(layers)]
    handles += [layer.mlp.down_proj.register_forward_pre_hook(gate_neurons(i)) for i, layer in enumerate(layers)]
    was_training = model.training
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        for start in range(0, len(items), batch_size):
            batch = {k: v.to(device) for k, v in collate(items[start : start + batch_size], pad_id).items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            distillation_loss(logits, batch["labels"]).mean().backward()
            heads += head_gates.grad.abs().float().cpu()  # type: ignore[union-attr] - set by backward
            neurons += neuron_gates.grad.abs().float().cpu()  # type: ignore[union-attr] - set by backward
            head_gates.grad = None
            neuron_gates.grad = None
    finally:
        for handle in handles:
            handle.remove()
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)
    return Importance(heads=heads, neurons=neurons)


def contrast(keep: Importance, pruned: Importance | None, weight: float = CONTRAST) -> Importance:
    """``keep - weight * pruned`` on layer-normalised scores; just ``keep`` without pruned-domain data."""
    kept = keep.normalised()
    if pruned is None or weight == 0:
        return kept
    other = pruned.normalised()
    return Importance(heads=kept.heads - weight * other.heads, neurons=kept.neurons - weight * other.neurons)


def unit_importance(
    model: Any, keep_items: Sequence[Encoded], pruned_items: Sequence[Encoded], pad_id: int, weight: float = CONTRAST
) -> Importance:
    """Scores for pruning: the user's own data against the pruned domains' texts (when there are any)."""
    keep = taylor_importance(model, keep_items, pad_id)
    pruned = taylor_importance(model, pruned_items, pad_id) if pruned_items else None
    return contrast(keep, pruned, weight)
