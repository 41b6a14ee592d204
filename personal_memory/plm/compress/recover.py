"""Distillation recovery (SEED.md phase 4, step 3): train the pruned model on the unpruned model's outputs.

The student is the pruned model, the teacher the original (unpruned) personal model. Recovery is
full fine-tuning of the student's decoder layers (the embeddings, tied to the LM head, stay frozen):
a network that lost half its FFN neurons needs more than low-rank adapters to relearn its function.
The loss per example is ``plm.distill``'s pieces put together for recovery:

    alpha * KL(teacher_T || student_T) * T^2   over every token of the example (prompt and answer)
    + (1 - alpha) * CE(answer)                  the user's answer as the hard target

The teacher runs once per example before training: its ``top_k`` logits at every position are kept
(the KL is over that support), so a training step costs one student forward/backward. The learning
rate warms up over the first 10 % of steps, then decays along a cosine to 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from personal_memory.plm.batches import IGNORE, Encoded, collate, encode, pad_id_of
from personal_memory.plm.data import Example
from personal_memory.plm.distill import ALPHA, TEMPERATURE, distillation_loss
from personal_memory.plm.lora import Progress, TrainResult

if TYPE_CHECKING:
    import torch


class RecoveryConfig(BaseModel):
    epochs: int = Field(8, ge=1)
    batch_size: int = Field(4, ge=1)
    learning_rate: float = Field(1e-4, gt=0)
    warmup: float = Field(0.1, ge=0.0, lt=1.0, description="share of steps with a linear warm-up")
    top_k: int = Field(64, ge=1, description="teacher logits kept per position")
    max_length: int = Field(256, ge=16)
    temperature: float = Field(TEMPERATURE, gt=0)
    alpha: float = Field(ALPHA, ge=0.0, le=1.0, description="weight of the teacher's soft targets")
    threads: int = Field(2, ge=1, description="torch CPU threads")
    seed: int = 0


RECOVERY = RecoveryConfig()


@dataclass(slots=True)
class Target:
    """One example and the teacher's top-k logits ``[len, k]`` (values and vocabulary ids) at each position."""

    item: Encoded
    values: torch.Tensor
    ids: torch.Tensor


def teacher_targets(teacher: Any, items: Sequence[Encoded], top_k: int, pad_id: int) -> list[Target]:
    """Run the teacher once over ``items`` and keep its ``top_k`` logits at every position."""
    import torch

    device = next(teacher.parameters()).device
    targets: list[Target] = []
    teacher.eval()
    with torch.no_grad():
        for item in items:
            batch = collate([item], pad_id)
            logits = teacher(input_ids=batch["input_ids"].to(device)).logits[0].float()
            values, ids = logits.topk(top_k, dim=-1)
            targets.append(Target(item, values.cpu(), ids.cpu()))
    return targets


def _batch_loss(student: Any, chunk: Sequence[Target], pad_id: int, config: RecoveryConfig) -> torch.Tensor:
    import torch

    device = next(student.parameters()).device
    batch = {k: v.to(device) for k, v in collate([t.item for t in chunk], pad_id).items()}
    logits = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    teacher = torch.full_like(logits, float("-inf"), dtype=torch.float32)
    for row, target in enumerate(chunk):
        n = target.ids.shape[0]
        teacher[row, :n].scatter_(-1, target.ids.to(device), target.values.to(device))
    every_token = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, IGNORE)
    soft = distillation_loss(logits, every_token, teacher, config.temperature, alpha=1.0)
    hard = distillation_loss(logits, batch["labels"])
    return (config.alpha * soft + (1 - config.alpha) * hard).mul(batch["weights"]).mean()


def learning_rate_factor(step: int, total: int, warmup: float) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay to 0."""
    warm = max(1, round(warmup * total))
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def recover(
    student: Any,
    teacher: Any,
    tokenizer: Any,
    examples: Sequence[Example],
    config: RecoveryConfig,
    progress: Progress | None = None,
) -> tuple[Any, TrainResult]:
    """Distil ``teacher`` into ``student`` on the user's examples; the trained student and the run's result."""
    import torch

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    pad_id = pad_id_of(tokenizer)
    items = [encode(tokenizer, e.question, e.answer, e.weight, config.max_length) for e in examples]
    targets = teacher_targets(teacher, items, config.top_k, pad_id)
    embeddings = student.get_input_embeddings().weight
    params = [p for p in student.parameters() if p is not embeddings]
    for p in student.parameters():
        p.requires_grad_(p is not embeddings)
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    per_epoch = math.ceil(len(targets) / config.batch_size)
    result = TrainResult(mode="full fine-tuning, distillation (top-k teacher logits)", steps=config.epochs * per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: learning_rate_factor(s, result.steps, config.warmup)
    )
    generator = torch.Generator().manual_seed(config.seed)
    student.train()
    for _epoch in range(config.epochs):
        order = torch.randperm(len(targets), generator=generator).tolist()
        for start in range(0, len(order), config.batch_size):
            loss = _batch_loss(student, [targets[i] for i in order[start : start + config.batch_size]], pad_id, config)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            result.losses.append(float(loss.detach()))
            if progress is not None:
                progress(len(result.losses), result.steps, result.losses[-1])
    for p in student.parameters():
        p.requires_grad_(False)
    result.seconds = time.perf_counter() - started
    return student.eval(), result
