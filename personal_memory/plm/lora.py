"""LoRA fine-tuning (SEED.md phase 1) with per-example weighted, optionally distilled, loss.

Defaults are SEED.md's: rank 16, alpha 32, dropout 0.05 on the attention (q/k/v/o) and FFN
(gate/up/down) projections; 3 epochs, batch 4, gradient accumulation 4, learning rate 2e-4.
QLoRA (bitsandbytes 4-bit NF4 base, LoRA on top) is chosen automatically when CUDA is present and
plain LoRA in fp32 on CPU; ``quantize`` forces either.

The optimised loss of a micro-batch is ``mean_i(weight_i * loss_i)``: a weight of 1.0 is an ordinary
example, so a weight scales how much its example moves the adapter (see ``plm.data`` for weights).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from personal_memory.plm.batches import collate, pad_id_of
from personal_memory.plm.distill import ALPHA, TEMPERATURE, TrainItem, batch_teacher_logits, distillation_loss

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

Progress = Callable[[int, int, float], None]
"""Called after every optimiser step with (step, total steps, loss)."""


class TrainConfig(BaseModel):
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: tuple[str, ...] = TARGET_MODULES
    epochs: int = Field(3, ge=1)
    batch_size: int = Field(4, ge=1)
    gradient_accumulation: int = Field(4, ge=1)
    learning_rate: float = Field(2e-4, gt=0)
    max_length: int = Field(256, ge=16)
    temperature: float = Field(TEMPERATURE, gt=0)
    alpha: float = Field(ALPHA, ge=0.0, le=1.0)
    quantize: Literal["auto", "4bit", "none"] = "auto"
    threads: int = Field(2, ge=1, description="torch CPU threads")
    seed: int = 0


@dataclass(frozen=True, slots=True)
class TrainMode:
    quantize_4bit: bool
    device: str

    @property
    def label(self) -> str:
        kind = "qlora nf4" if self.quantize_4bit else ("lora fp32" if self.device == "cpu" else "lora bf16")
        return f"{kind} ({self.device})"


def choose_mode(quantize: Literal["auto", "4bit", "none"], cuda_available: bool) -> TrainMode:
    """QLoRA when CUDA is present (or forced), plain LoRA otherwise."""
    device = "cuda" if cuda_available else "cpu"
    return TrainMode(quantize_4bit=quantize == "4bit" or (quantize == "auto" and cuda_available), device=device)


@dataclass(slots=True)
class TrainResult:
    mode: str
    steps: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        tail = self.losses[-max(1, len(self.losses) // 10) :]
        return sum(tail) / len(tail) if tail else math.nan


def total_steps(n_items: int, config: TrainConfig) -> int:
    micro = math.ceil(n_items / config.batch_size)
    return config.epochs * math.ceil(micro / config.gradient_accumulation)


def attach_lora(model: Any, config: TrainConfig, mode: TrainMode) -> Any:
    """Wrap ``model`` in trainable LoRA adapters (after k-bit preparation for a 4-bit base)."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if mode.quantize_4bit:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=mode.device == "cuda")
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def train_lora(
    model: Any,
    tokenizer: Any,
    items: Sequence[TrainItem],
    config: TrainConfig,
    mode: TrainMode,
    checkpoints: Path,
    progress: Progress | None = None,
    teacher: Any | None = None,
    resume_from: Path | None = None,
) -> tuple[Any, TrainResult]:
    """Train LoRA adapters on ``items``; save one checkpoint per epoch under ``checkpoints``.

    With ``resume_from`` (an adapter folder) training continues that adapter instead of a fresh one:
    the sidecar trainer's incremental update.
    """
    import torch

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    if resume_from is None:
        peft_model = attach_lora(model, config, mode)
    else:
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(model, resume_from, is_trainable=True)
    peft_model.train()
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    pad_id = pad_id_of(tokenizer)
    result = TrainResult(mode=mode.label, steps=total_steps(len(items), config))
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(len(items), generator=generator).tolist()
        micro = [[items[i] for i in order[s : s + config.batch_size]] for s in range(0, len(order), config.batch_size)]
        for g in range(0, len(micro), config.gradient_accumulation):
            group = micro[g : g + config.gradient_accumulation]
            step_loss = 0.0
            for chunk in group:
                loss = _micro_batch_loss(peft_model, chunk, pad_id, config, mode.device, teacher) / len(group)
                loss.backward()
                step_loss += float(loss.detach())
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            result.losses.append(step_loss)
            if progress is not None:
                progress(len(result.losses), result.steps, step_loss)
        peft_model.save_pretrained(checkpoints / f"epoch-{epoch}")
    peft_model.eval()
    result.seconds = time.perf_counter() - started
    return peft_model, result


def _micro_batch_loss(
    model: Any, chunk: list[TrainItem], pad_id: int, config: TrainConfig, device: str, teacher: Any | None
) -> Any:
    batch = {k: v.to(device) for k, v in collate([item.encoded for item in chunk], pad_id).items()}
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    soft = batch_teacher_logits(chunk, batch, logits.shape[-1], teacher)
    per_example = distillation_loss(logits, batch["labels"], soft, config.temperature, config.alpha)
    return (per_example * batch["weights"]).mean()
