"""The training pipeline end to end: prepare -> run -> eval -> merge / rollback / export to Ollama.

Library code: the CLI (and the sidecar trainer) pass in settings; nothing here reads the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from personal_memory.plm import data
from personal_memory.plm.base_model import (
    BaseModelRef,
    load_model,
    load_tokenizer,
    model_folder,
    require_training_libraries,
    resolve_base_model,
)
from personal_memory.plm.batches import encode
from personal_memory.plm.distill import TrainItem, source_counts, teacher_item, teacher_records
from personal_memory.plm.errors import BaseModelError, TrainingDataError
from personal_memory.plm.evaluate import Comparison, compare
from personal_memory.plm.inference import OllamaExport, export_ollama, load_with_adapter, merge_adapter
from personal_memory.plm.layout import PLMPaths
from personal_memory.plm.lora import Progress, TrainConfig, TrainResult, choose_mode, on_main_process, train_lora
from personal_memory.plm.registry import AdapterRegistry, AdapterVersion
from personal_memory.pms.errors import MemoryNotFoundError
from personal_memory.pms.interaction_log import Interaction, InteractionLog
from personal_memory.pms.schema import MemoryEntry
from personal_memory.pms.service import MemoryService


@dataclass(frozen=True, slots=True)
class PLMOptions:
    """What the user configured for the PLM (the composition root fills it from settings)."""

    base_model: str | None = None
    teacher_model: str | None = None
    ollama_models_dir: Path | None = None
    threads: int = 2


class Pipeline:
    def __init__(self, paths: PLMPaths, options: PLMOptions) -> None:
        self.paths = paths
        self.options = options
        self.registry = AdapterRegistry(paths.lora_adapter)

    # prepare --------------------------------------------------------------------------------------

    def prepare(self, service: MemoryService) -> data.DatasetManifest:
        """Write the training and held-out datasets from every active memory."""
        memories = list(service.iter_active())
        if not memories:
            raise TrainingDataError("There are no memories to train on yet: remember something first.")
        superseded: dict[UUID, MemoryEntry] = {}
        for entry in memories:
            if entry.supersedes is not None:
                try:
                    superseded[entry.supersedes] = service.find(entry.supersedes)
                except MemoryNotFoundError:
                    continue  # the corrected memory was forgotten since: nothing to unlearn
        train, held_out = data.build_examples(memories, superseded)
        return data.write_dataset(self.paths.training_data, train, held_out)

    def manifest(self) -> data.DatasetManifest:
        if not (self.paths.training_data / data.MANIFEST_FILE).is_file():
            raise TrainingDataError("No training data yet: run `pmem train prepare` first.")
        return data.read_manifest(self.paths.training_data)

    def examples(self, file_name: str) -> list[data.Example]:
        """The examples of one prepared dataset file (``data.INSTRUCTION_FILE`` or ``data.EVAL_FILE``)."""
        self.manifest()
        return data.read_examples(self.paths.training_data / file_name)

    # models ---------------------------------------------------------------------------------------

    def base(self, name: str | None = None) -> tuple[BaseModelRef, Path]:
        """The base model (configured, or ``name``) and the local Hugging Face folder to load it from."""
        require_training_libraries()
        ref = resolve_base_model(name or self.options.base_model, self.options.ollama_models_dir)
        return ref, model_folder(ref, self.paths.base_cache)

    def _teacher(self, vocab: int) -> Any | None:
        if not self.options.teacher_model:
            return None
        _ref, folder = self.base(self.options.teacher_model)
        teacher = load_model(folder)
        if teacher.config.vocab_size != vocab:
            raise BaseModelError(
                f"The teacher model's vocabulary ({teacher.config.vocab_size}) differs from the base model's "
                f"({vocab}): a local teacher must share the student's tokenizer."
            )
        return teacher.eval()

    # run ------------------------------------------------------------------------------------------

    def run(
        self, config: TrainConfig, progress: Progress | None = None, log: InteractionLog | None = None
    ) -> tuple[AdapterVersion, TrainResult]:
        """Train a new adapter version on the prepared data (plus logged teacher answers) and activate it."""
        import torch

        manifest = self.manifest()
        examples = self.examples(data.INSTRUCTION_FILE)
        ref, folder = self.base()
        mode = choose_mode(config.quantize, torch.cuda.is_available())
        torch.set_num_threads(config.threads)
        tokenizer = load_tokenizer(folder)
        model = load_model(folder, mode.quantize_4bit)
        teacher = self._teacher(model.config.vocab_size)
        items = [TrainItem(encode(tokenizer, e.question, e.answer, e.weight, config.max_length)) for e in examples]
        records = teacher_records(_all(log)) if log is not None else []
        items += [teacher_item(tokenizer, r, teacher is not None, config.max_length) for r in records]
        version_id = self.registry.next_id()
        peft_model, result = train_lora(
            model, tokenizer, items, config, mode, self.paths.checkpoints / version_id, progress, teacher
        )
        adapter_dir = self.paths.lora_adapter / version_id
        version = AdapterVersion(
            id=version_id,
            base_model=ref.name,
            path=adapter_dir,
            mode=result.mode,
            soft_targets=source_counts(items[len(examples) :]),
            metrics={
                "train_loss": round(result.final_loss, 6),
                "steps": result.steps,
                "seconds": result.seconds,
                "processes": result.processes,
            },
            dataset=manifest,
        )

        def write() -> None:
            peft_model.save_pretrained(adapter_dir)
            self.registry.add(version)

        on_main_process(write)  # one adapter and registry entry however many processes trained it
        return self.registry.active(), result

    # after training -------------------------------------------------------------------------------

    def evaluate(self, max_new_tokens: int = 48) -> Comparison:
        """Base vs active adapter on the held-out paraphrases; the scores are stored with the adapter."""
        version = self.registry.active()
        held_out = self.examples(data.EVAL_FILE)
        _ref, folder = self.base(version.base_model)
        model, tokenizer = load_with_adapter(folder, version.path, self.options.threads)
        result = compare(model, tokenizer, held_out, max_new_tokens)
        self.registry.record_metrics(
            version.id,
            {
                "base_exact_match": result.base.exact_match,
                "base_f1": result.base.f1,
                "exact_match": result.adapter.exact_match,
                "f1": result.adapter.f1,
            },
        )
        return result

    def merge(self) -> Path:
        version = self.registry.active()
        _ref, folder = self.base(version.base_model)
        return merge_adapter(folder, version.path, self.paths.merged, version.id)

    def rollback(self) -> AdapterVersion:
        return self.registry.rollback()

    def export_ollama(self, model_name: str) -> OllamaExport:
        version = self.registry.active()
        ref = resolve_base_model(version.base_model, self.options.ollama_models_dir)
        return export_ollama(ref, version.path, self.paths.ollama / version.id, model_name)


def _all(log: InteractionLog, page: int = 1000) -> Iterator[Interaction]:
    after = 0
    while True:
        batch = list(log.read(after_seq=after, limit=page))
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].seq
