"""Importance scores and structured pruning on the tiny local Llama (4 query heads over 2 key/value heads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from personal_memory.plm.base_model import load_model, load_tokenizer
from personal_memory.plm.batches import encode, pad_id_of
from personal_memory.plm.compress.importance import Importance, contrast, output_importance
from personal_memory.plm.compress.prune import (
    PruneConfig,
    Shape,
    UnsupportedModelError,
    apply_pruning,
    count_parameters,
    decoder_layers,
    plan_pruning,
)
from tests.plm.conftest import MEMORIES

PLANTED_NEURONS = [3, 17, 40, 77, 99, 120]
PLANTED_HEADS = [1, 2]  # one in each key/value group


@pytest.fixture(autouse=True)
def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _planted(folder: Path):  # type: ignore[no-untyped-def]
    """The tiny model with every unit but the planted ones cut off from the output (their output weights zeroed)."""
    import torch

    model = load_model(folder).eval()
    head_dim = Shape.of(model.config).head_dim
    with torch.no_grad():
        for layer in decoder_layers(model):
            dead = [n for n in range(model.config.intermediate_size) if n not in PLANTED_NEURONS]
            layer.mlp.down_proj.weight[:, dead] = 0
            for head in range(model.config.num_attention_heads):
                if head not in PLANTED_HEADS:
                    layer.self_attn.o_proj.weight[:, head * head_dim : (head + 1) * head_dim] = 0
    return model


def test_importance_keeps_exactly_the_units_a_planted_signal_depends_on(tiny_llama: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    model = _planted(tiny_llama)
    tokenizer = load_tokenizer(tiny_llama)
    items = [encode(tokenizer, f"Tell me about {c.split()[-1]}", c, 1.0) for c, _t, _e in MEMORIES]
    scores = output_importance(model, items, pad_id_of(tokenizer))
    for layer in range(2):
        dead = [n for n in range(128) if n not in PLANTED_NEURONS]
        assert bool((scores.neurons[layer, PLANTED_NEURONS] > 0).all()) and scores.neurons[layer, dead].sum() == 0
        assert bool((scores.heads[layer, PLANTED_HEADS] > 0).all()) and scores.heads[layer, [0, 3]].sum() == 0

    plan = plan_pruning(contrast(scores, None), Shape.of(model.config), PruneConfig(ffn_share=0.5, head_share=0.5))
    assert all(set(PLANTED_NEURONS) <= set(kept) and len(kept) == 64 for kept in plan.neurons)
    assert plan.heads == [PLANTED_HEADS, PLANTED_HEADS] and plan.kv_heads == [[0, 1], [0, 1]]
    pruned = apply_pruning(model, plan)
    ids = torch.tensor([items[0].input_ids])
    with torch.no_grad():
        torch.testing.assert_close(pruned(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-5, rtol=1e-5)

    pruned.save_pretrained(tmp_path / "pruned")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "pruned", local_files_only=True)
    config = reloaded.config
    assert (config.num_attention_heads, config.num_key_value_heads, config.intermediate_size) == (2, 2, 64)
    assert count_parameters(reloaded) < count_parameters(model)
    greedy = {"max_new_tokens": 6, "do_sample": False, "pad_token_id": pad_id_of(tokenizer)}
    assert reloaded.generate(ids, **greedy).tolist() == model.generate(ids, **greedy).tolist()


def _logits(model, ids):  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits


def test_pruning_nothing_is_an_exact_no_op_on_the_logits(tiny_llama: Path) -> None:
    import torch

    model = load_model(tiny_llama).eval()
    shape = Shape.of(model.config)
    random = Importance(heads=torch.rand(shape.layers, shape.heads), neurons=torch.rand(shape.layers, 128))
    pruned = apply_pruning(model, plan_pruning(random, shape, PruneConfig(ffn_share=0.0, head_share=0.0)))
    ids = torch.tensor([[1, 5, 6, 7, 8, 9]])
    assert torch.equal(_logits(pruned, ids), _logits(model, ids))


def test_pruning_the_least_important_units_changes_the_output_less_than_pruning_the_most_important(
    tiny_llama: Path,
) -> None:
    """A sign or axis error in the scores (keeping the least important units) fails here."""
    import torch

    model = load_model(tiny_llama).eval()
    head_dim = Shape.of(model.config).head_dim
    torch.manual_seed(1)
    with torch.no_grad():  # units of very different strengths, as in trained models
        for layer in decoder_layers(model):
            layer.mlp.down_proj.weight.mul_(10 ** torch.empty(128).uniform_(-2, 1))
            layer.self_attn.o_proj.weight.mul_((10 ** torch.empty(4).uniform_(-2, 1)).repeat_interleave(head_dim))
    tokenizer = load_tokenizer(tiny_llama)
    items = [encode(tokenizer, f"Tell me about {c.split()[-1]}", c, 1.0) for c, _t, _e in MEMORIES]
    scores = output_importance(model, items, pad_id_of(tokenizer))
    shape = Shape.of(model.config)
    ids = torch.tensor([items[0].input_ids])
    full = _logits(model, ids)

    def error(importance: Importance) -> float:
        plan = plan_pruning(importance, shape, PruneConfig(ffn_share=0.5, head_share=0.5))
        return float((_logits(apply_pruning(model, plan), ids) - full).norm())

    inverted = Importance(heads=-scores.heads, neurons=-scores.neurons)
    assert error(scores) < error(inverted) / 2


def test_pruning_half_the_neurons_removes_parameters_and_the_model_still_loads_and_generates(
    tiny_llama: Path, tmp_path: Path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    model = load_model(tiny_llama)
    shape = Shape.of(model.config)
    random = Importance(heads=torch.rand(shape.layers, shape.heads), neurons=torch.rand(shape.layers, 128))
    pruned = apply_pruning(model, plan_pruning(random, shape, PruneConfig()))
    # per layer: gate/up/down lose 64 neurons x 64 wide each; 1/4 of heads rounds to none of 2 per group
    assert count_parameters(model) - count_parameters(pruned) == 2 * 3 * 64 * 64
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())
    pruned.save_pretrained(tmp_path / "m")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "m", local_files_only=True)
    assert reloaded.config.intermediate_size == 64 and reloaded.config.num_attention_heads == 4
    out = reloaded.generate(torch.tensor([[1, 5, 6]]), max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert out.shape == (1, 8)


def test_multi_head_attention_loses_whole_heads_with_their_keys_and_values(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, attention_bias=True,
    )  # fmt: skip
    model = LlamaForCausalLM(config).eval()
    shape = Shape.of(config)
    scores = Importance(heads=torch.tensor([[4.0, 1, 3, 2], [1, 2, 3, 4]]), neurons=torch.rand(2, 64))
    plan = plan_pruning(scores, shape, PruneConfig(ffn_share=0.25, head_share=0.5))
    assert plan.heads == plan.kv_heads == [[0, 2], [2, 3]]
    pruned = apply_pruning(model, plan)
    pruned.save_pretrained(tmp_path / "mha")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "mha", local_files_only=True)
    assert (reloaded.config.num_attention_heads, reloaded.config.num_key_value_heads) == (2, 2)
    assert reloaded.config.head_dim == 8 and reloaded.config.intermediate_size == 48
    assert reloaded.model.layers[0].self_attn.k_proj.bias.shape == (16,)
    with torch.no_grad():
        assert torch.isfinite(reloaded(input_ids=torch.tensor([[1, 2, 3]])).logits).all()


def test_units_only_the_pruned_domains_use_rank_below_units_the_user_needs() -> None:
    import torch

    keep = Importance(heads=torch.tensor([[2.0, 2.0, 1.0, 1.0]]), neurons=torch.tensor([[5.0, 5.0, 5.0, 5.0]]))
    pruned = Importance(heads=torch.tensor([[0.0, 8.0, 0.0, 0.0]]), neurons=torch.tensor([[0.0, 0.0, 0.0, 9.0]]))
    scores = contrast(keep, pruned, weight=0.5)
    assert int(scores.neurons[0].argmin()) == 3  # as useful to the user as the others, but mostly other domains'
    assert int(scores.heads[0].argmin()) == 1
    assert torch.equal(contrast(keep, pruned, weight=0).neurons, keep.normalised().neurons)


def test_a_model_without_llama_style_layers_is_refused_with_a_clear_error() -> None:
    from torch import nn

    with pytest.raises(UnsupportedModelError, match="Llama-style"):
        decoder_layers(nn.Linear(2, 2))
