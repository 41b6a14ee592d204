"""Distillation recovery (SEED.md phase 4, step 3): train the pruned model on the unpruned model's outputs.

The student is the pruned model, the teacher the original (unpruned) personal model. Every training
example of the user's dataset gets the teacher's logits as soft targets (``SoftTargetSource.LOCAL_TEACHER``)
and its answer as the hard target, so the loss is ``plm.distill``'s
``alpha * KL(teacher_T || student_T) * T^2 + (1 - alpha) * CE``. Training is ``plm.lora.train_lora``
(LoRA adapters on every projection, as LLM-Pruner recovers), then the adapters are merged so the
recovered model is a plain model of the pruned shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from personal_memory.plm.batches import encode
from personal_memory.plm.data import Example
from personal_memory.plm.distill import SoftTargetSource, TrainItem
from personal_memory.plm.lora import Progress, TrainConfig, TrainResult, choose_mode, train_lora

RECOVERY = TrainConfig(epochs=2, gradient_accumulation=1, learning_rate=1e-3)
"""Recovery defaults: fewer, larger steps than adapter training; the teacher supplies most of the signal."""


def distillation_items(tokenizer: Any, examples: Sequence[Example], max_length: int) -> list[TrainItem]:
    """The user's examples, each with the local teacher's logits as its soft targets."""
    return [
        TrainItem(encode(tokenizer, e.question, e.answer, e.weight, max_length), SoftTargetSource.LOCAL_TEACHER)
        for e in examples
    ]


def recover(
    student: Any,
    teacher: Any,
    tokenizer: Any,
    examples: Sequence[Example],
    config: TrainConfig,
    checkpoints: Path,
    progress: Progress | None = None,
) -> tuple[Any, TrainResult]:
    """Distil ``teacher`` into ``student`` on the user's examples; the merged student and the run's result."""
    import torch

    teacher.eval()
    mode = choose_mode("none", torch.cuda.is_available())  # a float student, so the adapters can be merged
    items = distillation_items(tokenizer, examples, config.max_length)
    peft_model, result = train_lora(student, tokenizer, items, config, mode, checkpoints, progress, teacher)
    return peft_model.merge_and_unload().eval(), result
