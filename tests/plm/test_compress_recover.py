"""Distillation recovery on the tiny local Llama: the pruned student moves towards the unpruned teacher."""

from __future__ import annotations

from pathlib import Path

import pytest

from personal_memory.plm.base_model import load_model, load_tokenizer
from personal_memory.plm.batches import encode, pad_id_of
from personal_memory.plm.compress.importance import output_importance
from personal_memory.plm.compress.prune import PruneConfig, Shape, apply_pruning, plan_pruning
from personal_memory.plm.compress.recover import RecoveryConfig, learning_rate_factor, recover, teacher_targets
from personal_memory.plm.data import Example
from tests.plm.conftest import MEMORIES


@pytest.fixture(autouse=True)
def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _kl(student, teacher, ids) -> float:  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        t = torch.log_softmax(teacher(input_ids=ids).logits, -1)
        s = torch.log_softmax(student(input_ids=ids).logits, -1)
    return float((t.exp() * (t - s)).sum(-1).mean())


def test_recovery_brings_the_pruned_student_closer_to_the_teacher_and_leaves_embeddings_alone(
    tiny_llama: Path,
) -> None:
    import torch

    teacher = load_model(tiny_llama).eval()
    with torch.no_grad():
        teacher.model.norm.weight.mul_(30)  # sharp next-token distributions, so pruning visibly changes them
    tokenizer = load_tokenizer(tiny_llama)
    examples = [
        Example(f"Tell me about {c.split()[-1]}", c, 1.0, str(i), t.value) for i, (c, t, _e) in enumerate(MEMORIES)
    ]
    items = [encode(tokenizer, e.question, e.answer, 1.0) for e in examples]
    shape = Shape.of(teacher.config)
    plan = plan_pruning(output_importance(teacher, items, pad_id_of(tokenizer)), shape, PruneConfig(ffn_share=0.75))
    student = apply_pruning(teacher, plan)
    embeddings = student.get_input_embeddings().weight.clone()
    ids = torch.tensor([items[0].input_ids])
    before = _kl(student, teacher, ids)
    config = RecoveryConfig(epochs=6, learning_rate=3e-4, alpha=1.0, threads=1)  # the teacher alone
    steps: list[int] = []
    recovered, result = recover(student, teacher, tokenizer, examples, config, lambda s, _n, _l: steps.append(s))
    assert result.steps == len(steps) == len(result.losses) == 6 * 2 and steps[-1] == result.steps
    assert _kl(recovered, teacher, ids) < before / 2
    assert torch.equal(recovered.get_input_embeddings().weight, embeddings)
    assert not any(p.requires_grad for p in recovered.parameters())


def test_teacher_targets_keep_the_top_k_logits_of_every_position(tiny_llama: Path) -> None:
    import torch

    teacher = load_model(tiny_llama).eval()
    tokenizer = load_tokenizer(tiny_llama)
    item = encode(tokenizer, "Where do I live?", "In Porto", 1.0)
    (target,) = teacher_targets(teacher, [item], 5, pad_id_of(tokenizer))
    with torch.no_grad():
        logits = teacher(input_ids=torch.tensor([item.input_ids])).logits[0]
    assert target.values.shape == target.ids.shape == (len(item.input_ids), 5)
    torch.testing.assert_close(target.values, logits.topk(5, -1).values)


def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    factors = [learning_rate_factor(step, 20, 0.1) for step in range(20)]
    assert factors[:2] == [0.5, 1.0] and factors[2] == 1.0
    assert all(a >= b for a, b in zip(factors[1:], factors[2:], strict=False)) and factors[-1] < 0.01
