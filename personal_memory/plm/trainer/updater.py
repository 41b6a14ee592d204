"""The update phase: an incremental LoRA update on the current adapter, kept only if it is not worse.

1. Build the batch: queued events (plus the replay sample) become training examples: a remembered or
   corrected memory is asked ``plm.data``'s templated questions (a correction also its old memory's,
   answered with the correction); a teacher's answer is a hard target. Feedback multiplies the weight.
   Memories superseded or forgotten since they were queued are not learned.
2. Score the served model (the active adapter, or the bare base before the first one) on the held-out
   paraphrases of those memories; train a few steps continuing the active adapter; score again.
3. Keep (register, activate, merge, checkpoint) when held-out token F1 did not drop; else discard and
   say why. The registry switches only after the new adapter is fully written, so a trainer killed
   mid-update leaves the previous adapter served and the events queued.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from personal_memory.plm import data
from personal_memory.plm.base_model import load_model, load_tokenizer
from personal_memory.plm.batches import encode
from personal_memory.plm.distill import TrainItem
from personal_memory.plm.errors import AdapterError, PLMError
from personal_memory.plm.evaluate import Scores, evaluate
from personal_memory.plm.lora import TrainConfig, choose_mode, process_state, train_lora
from personal_memory.plm.pipeline import Pipeline
from personal_memory.plm.registry import AdapterVersion
from personal_memory.plm.trainer.sidecar import UpdateOutcome
from personal_memory.plm.trainer.store import QueuedEvent
from personal_memory.pms.errors import MemoryNotFoundError
from personal_memory.pms.schema import MemoryEntry, MemoryStatus
from personal_memory.pms.service import MemoryService


@dataclass(frozen=True, slots=True)
class UpdateBatch:
    train: list[data.Example]
    held_out: list[data.Example]


def build_batch(service: MemoryService, events: Sequence[QueuedEvent]) -> UpdateBatch:
    """Training and held-out examples for ``events`` (see the module docstring)."""
    multiplier: dict[str, float] = {}
    memories: dict[UUID, MemoryEntry] = {}
    teacher: list[data.Example] = []
    for queued in events:
        event = queued.event
        if event.kind == "teacher" and event.query:
            teacher.append(data.Example(event.query, event.text, queued.weight, "", "teacher"))
            continue
        entry = _live(service, event.memory_id)
        if entry is None:
            continue
        memories[entry.id] = entry
        factor = queued.weight / event.weight if event.weight else 1.0
        multiplier[str(entry.id)] = multiplier.get(str(entry.id), 1.0) * factor
    superseded = {
        old.id: old for e in memories.values() if e.supersedes and (old := _any(service, e.supersedes)) is not None
    }
    train, held_out = data.build_examples(list(memories.values()), superseded)
    weighted = [
        data.Example(e.question, e.answer, round(e.weight * multiplier.get(e.memory_id, 1.0), 4), e.memory_id,
                     e.memory_type)
        for e in train
    ]  # fmt: skip
    return UpdateBatch(train=weighted + teacher, held_out=held_out)


def _any(service: MemoryService, memory_id: UUID) -> MemoryEntry | None:
    try:
        return service.find(memory_id)
    except MemoryNotFoundError:
        return None


def _live(service: MemoryService, memory_id: str | None) -> MemoryEntry | None:
    if not memory_id:
        return None
    try:
        entry = service.find(UUID(memory_id))
    except (ValueError, MemoryNotFoundError):
        return None
    return entry if entry.status is MemoryStatus.ACTIVE else None


class LoraUpdater:
    """Implements the sidecar's ``Updater`` with the PLM pipeline's model loading, LoRA and evaluation."""

    def __init__(
        self, pipeline: Pipeline, service: MemoryService, config: TrainConfig | None = None, merge: bool = True
    ) -> None:
        if process_state().num_processes > 1:
            raise PLMError(
                "The sidecar trainer runs as one process: start it without `accelerate launch` (its updates are a "
                "few steps on one GPU or the CPU); train on several GPUs with `accelerate launch ... train run`."
            )
        self.pipeline = pipeline
        self.service = service
        self.config = config or TrainConfig(epochs=1, gradient_accumulation=1)
        self.merge = merge

    def _active(self) -> AdapterVersion | None:
        try:
            return self.pipeline.registry.active()
        except AdapterError:
            return None

    def update(self, update_id: str, batch: list[QueuedEvent], replay: list[QueuedEvent]) -> UpdateOutcome:
        import torch

        examples = build_batch(self.service, [*batch, *replay])
        if not examples.train:
            return UpdateOutcome(kept=False, reason="the queued memories were superseded or forgotten since")
        active = self._active()
        ref, folder = self.pipeline.base(active.base_model if active else None)
        mode = choose_mode(self.config.quantize, torch.cuda.is_available())
        torch.set_num_threads(self.config.threads)
        tokenizer = load_tokenizer(folder)
        before = self._score_served(folder, active, examples.held_out)
        max_len = self.config.max_length
        items = [TrainItem(encode(tokenizer, e.question, e.answer, e.weight, max_len)) for e in examples.train]
        version_id = self.pipeline.registry.next_id()
        model, result = train_lora(
            load_model(folder, mode.quantize_4bit),
            tokenizer,
            items,
            self.config,
            mode,
            self.pipeline.paths.checkpoints / version_id,
            resume_from=active.path if active else None,
        )
        after = evaluate(model, tokenizer, examples.held_out) if examples.held_out else None
        metrics = {"train_loss": round(result.final_loss, 6), "steps": float(result.steps)}
        if before is not None and after is not None:
            metrics |= {"f1_before": round(before.f1, 4), "f1": round(after.f1, 4), "exact_match": after.exact_match}
            if after.f1 < before.f1:
                shutil.rmtree(self.pipeline.paths.checkpoints / version_id, ignore_errors=True)
                return UpdateOutcome(
                    kept=False,
                    reason=f"held-out F1 fell from {before.f1:.3f} to {after.f1:.3f}: kept the previous adapter",
                    metrics=metrics,
                )
        adapter_dir = self.pipeline.paths.lora_adapter / version_id
        model.save_pretrained(adapter_dir)
        manifest = data.write_dataset(self.pipeline.paths.training_data / "updates" / update_id, examples.train,
                                      examples.held_out)  # fmt: skip
        self.pipeline.registry.add(
            AdapterVersion(
                id=version_id,
                base_model=ref.name,
                path=adapter_dir,
                mode=result.mode,
                metrics=metrics,
                dataset=manifest,
            )  # fmt: skip
        )
        if self.merge:
            self.pipeline.merge()
        reason = (
            "no held-out questions"
            if before is None or after is None
            else (f"held-out F1 {before.f1:.3f} -> {after.f1:.3f}")
        )
        return UpdateOutcome(kept=True, reason=reason, adapter_id=version_id, metrics=metrics)

    def _score_served(self, folder: Path, active: AdapterVersion | None, held_out: list[data.Example]) -> Scores | None:
        """Held-out scores of what is served now: the active adapter, else the bare base model."""
        if not held_out:
            return None
        if active is None:
            return evaluate(load_model(folder).eval(), load_tokenizer(folder), held_out)
        from personal_memory.plm.inference import load_with_adapter

        model, tokenizer = load_with_adapter(folder, active.path, self.config.threads)
        return evaluate(model, tokenizer, held_out)
