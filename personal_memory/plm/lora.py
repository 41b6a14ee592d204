"""LoRA fine-tuning (SEED.md phase 1) with per-example weighted, optionally distilled, loss.

Defaults are SEED.md's: rank 16, alpha 32, dropout 0.05 on the attention (q/k/v/o) and FFN
(gate/up/down) projections; 3 epochs, batch 4, gradient accumulation 4, learning rate 2e-4.
QLoRA (bitsandbytes 4-bit NF4 base, LoRA on top) is chosen automatically when CUDA is present and
plain LoRA in fp32 on CPU; ``quantize`` forces either.

The loop runs through Hugging Face ``accelerate``: as one plain process it trains on this machine's
GPU or CPU; under ``accelerate launch --num_processes N`` every process holds a replica and trains on
its share of the micro-batches (data parallel: gradients are averaged, so one optimiser step covers N
times the examples), and only the main process writes checkpoints.

The optimised loss of a micro-batch is ``mean_i(weight_i * loss_i)``: a weight of 1.0 is an ordinary
example, so a weight scales how much its example moves the adapter (see ``plm.data`` for weights).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from personal_memory.plm.batches import collate, pad_id_of
from personal_memory.plm.distill import ALPHA, TEMPERATURE, TrainItem, batch_teacher_logits, distillation_loss

if TYPE_CHECKING:
    from accelerate import PartialState

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
    losses: list[float] = field(default_factory=list)  # per optimiser step, averaged over the processes
    seconds: float = 0.0
    examples_per_process: list[int] = field(default_factory=list)  # examples each process trained on

    @property
    def processes(self) -> int:
        return max(1, len(self.examples_per_process))

    @property
    def final_loss(self) -> float:
        tail = self.losses[-max(1, len(self.losses) // 10) :]
        return sum(tail) / len(tail) if tail else math.nan


def total_steps(n_items: int, config: TrainConfig, processes: int = 1) -> int:
    """Optimiser steps of a run; each of ``processes`` data-parallel processes takes its share of the micro-batches."""
    micro = math.ceil(math.ceil(n_items / config.batch_size) / processes)
    return config.epochs * math.ceil(micro / config.gradient_accumulation)


class ShuffledBatches:
    """Micro-batches (lists of item indices) of a new seeded shuffle on every pass.

    Every process draws the same shuffles from the same seed, and ``accelerate`` deals the micro-batches
    out among them (evenly: the last round is topped up from the first micro-batches).
    """

    drop_last = False

    def __init__(self, n_items: int, batch_size: int, seed: int) -> None:
        import torch

        self.n_items = n_items
        self.batch_size = batch_size
        self._generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(self.n_items / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        import torch

        order = torch.randperm(self.n_items, generator=self._generator).tolist()
        return iter([order[s : s + self.batch_size] for s in range(0, self.n_items, self.batch_size)])


def process_state() -> PartialState:
    """This process's ``accelerate.PartialState``: alone, or one of ``accelerate launch``'s processes.

    Without CUDA the processes train on CPU and talk over gloo. The state is process-wide and fixed by
    whoever creates it first, so pmem creates it here only (and ``Accelerator`` with the same ``cpu``).
    """
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def on_main_process(write: Callable[[], None]) -> None:
    """Run ``write`` in the main process only (the one process without ``accelerate launch``); the others
    wait until it is done, so they read what it wrote."""
    state = process_state()
    if state.is_main_process:
        write()
    state.wait_for_everyone()


def attach_lora(model: Any, config: TrainConfig, mode: TrainMode) -> Any:
    """Wrap ``model`` in trainable LoRA adapters (after k-bit preparation for a 4-bit base)."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if mode.quantize_4bit:
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=mode.device == "cuda",
            gradient_checkpointing_kwargs={"use_reentrant": False},  # reentrant checkpoints break DDP's sync
        )
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
    the sidecar trainer's incremental update. Returns the trained (unwrapped) model in every process;
    ``progress`` is called in the main process only.
    """
    import torch
    from accelerate import Accelerator
    from torch.utils.data import DataLoader

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    accelerator = Accelerator(cpu=not torch.cuda.is_available())  # as ``process_state`` makes it
    if resume_from is None:
        peft_model = attach_lora(model, config, mode)
    else:
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(model, resume_from, is_trainable=True)
    peft_model.train()
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate)
    batches = ShuffledBatches(len(items), config.batch_size, config.seed)
    loader = DataLoader(list(items), batch_sampler=batches, collate_fn=list)
    wrapped, optimizer, loader = accelerator.prepare(peft_model, optimizer, loader)
    peft_model = accelerator.unwrap_model(wrapped)  # the replica itself (``wrapped`` syncs its gradients)
    pad_id = pad_id_of(tokenizer)
    result = TrainResult(mode=mode.label, steps=total_steps(len(items), config, accelerator.num_processes))
    seen = 0
    for epoch in range(1, config.epochs + 1):
        micro: list[list[TrainItem]] = list(loader)
        for g in range(0, len(micro), config.gradient_accumulation):
            group = micro[g : g + config.gradient_accumulation]
            step_loss = 0.0
            for k, chunk in enumerate(group):
                # Gradients are averaged across processes once per optimiser step, on its last micro-batch.
                with accelerator.no_sync(wrapped) if k < len(group) - 1 else nullcontext():
                    loss = _micro_batch_loss(wrapped, chunk, pad_id, config, accelerator.device, teacher) / len(group)
                    accelerator.backward(loss)
                step_loss += float(loss.detach())
                seen += len(chunk)
            accelerator.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            mean_loss = float(accelerator.reduce(torch.tensor(step_loss, device=accelerator.device), "mean"))
            result.losses.append(mean_loss)
            if progress is not None and accelerator.is_main_process:
                progress(len(result.losses), result.steps, mean_loss)
        on_main_process(partial(peft_model.save_pretrained, checkpoints / f"epoch-{epoch}"))
    result.examples_per_process = accelerator.gather(torch.tensor([seen], device=accelerator.device)).tolist()
    accelerator.free_memory()
    peft_model.eval()
    result.seconds = time.perf_counter() - started
    return peft_model, result


def _micro_batch_loss(
    model: Any, chunk: list[TrainItem], pad_id: int, config: TrainConfig, device: Any, teacher: Any | None
) -> Any:
    batch = {k: v.to(device) for k, v in collate([item.encoded for item in chunk], pad_id).items()}
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    soft = batch_teacher_logits(chunk, batch, logits.shape[-1], teacher)
    per_example = distillation_loss(logits, batch["labels"], soft, config.temperature, config.alpha)
    return (per_example * batch["weights"]).mean()
