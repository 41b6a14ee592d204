"""The compression run end to end: domains -> importance -> prune -> recover -> quantise -> report.

Results go to ``models/compressed/<run id>/``: ``recovered/`` (the pruned and recovered model, a plain
Hugging Face folder), ``quantised/`` (``quantize.load_quantized`` loads it) and ``report.json``. The
original and the pruned-before-recovery model are saved only long enough to measure their size.
The importance scores are taken on the user's data and the pruned domains' texts, every token.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from personal_memory.plm import data
from personal_memory.plm.base_model import load_model, load_tokenizer
from personal_memory.plm.batches import Encoded, encode, pad_id_of
from personal_memory.plm.compress.domains import KEEP_ABOVE, PRUNE_BELOW, plan_domains, split_memories
from personal_memory.plm.compress.importance import CONTRAST, unit_importance
from personal_memory.plm.compress.prune import PruneConfig, Shape, apply_pruning, plan_pruning
from personal_memory.plm.compress.quantize import (
    QuantMethod,
    Requested,
    load_quantized,
    quantization_candidates,
    save_quantized,
)
from personal_memory.plm.compress.recover import RECOVERY, RecoveryConfig, recover
from personal_memory.plm.compress.report import (
    TARGET_QUALITY,
    Candidate,
    CompressionReport,
    QuantChoice,
    Recovery,
    StageReport,
    measure,
    weights_size,
)
from personal_memory.plm.errors import AdapterError, TrainingDataError
from personal_memory.plm.evaluate import evaluate
from personal_memory.plm.inference import load_with_adapter
from personal_memory.plm.layout import PLMPaths
from personal_memory.plm.lora import Progress
from personal_memory.plm.pipeline import Pipeline
from personal_memory.pms.schema import MemoryEntry, utcnow

T = TypeVar("T")
Notify = Callable[[str], None]
"""Called with a short line as each step starts."""


class CompressOptions(BaseModel):
    keep_above: float = Field(KEEP_ABOVE, ge=0.0, le=1.0, description="domains above this share are kept")
    prune_below: float = Field(PRUNE_BELOW, ge=0.0, le=1.0, description="domains below this share are pruned")
    prune: PruneConfig = Field(default_factory=PruneConfig)
    contrast: float = Field(CONTRAST, ge=0.0, description="weight of the pruned domains' importance")
    recovery: RecoveryConfig = Field(default_factory=lambda: RECOVERY.model_copy())
    quantize: Requested = "auto"
    min_quality_kept: float = Field(
        TARGET_QUALITY, ge=0.0, le=1.0, description="share of the recovered model's held-out F1 a quantisation keeps"
    )
    importance_texts: int = Field(64, ge=1, description="texts per side (user / pruned domains) to score units")
    max_new_tokens: int = Field(48, ge=1)
    threads: int = Field(2, ge=1, description="torch CPU threads")


def compressed_dir(paths: PLMPaths) -> Path:
    return paths.models / "compressed"


def personal_model(pipeline: Pipeline) -> tuple[Any, Any, str]:
    """The model to compress: base + the active adapter merged, or the base when no adapter was trained."""
    try:
        version = pipeline.registry.active()
    except AdapterError:
        version = None
    ref, folder = pipeline.base(version.base_model if version else None)
    if version is None:
        return load_model(folder).eval(), load_tokenizer(folder), f"base {ref.name}"
    model, tokenizer = load_with_adapter(folder, version.path, pipeline.options.threads)
    return model.merge_and_unload().eval(), tokenizer, f"{ref.name} + adapter {version.id}"


def _spread(items: Sequence[T], n: int) -> list[T]:
    """At most ``n`` items, evenly spaced (deterministic)."""
    return list(items) if len(items) <= n else [items[i * len(items) // n] for i in range(n)]


def _text_item(tokenizer: Any, text: str, max_length: int) -> Encoded:
    ids: list[int] = tokenizer(text)["input_ids"][:max_length]
    return Encoded(ids, list(ids), 1.0, 0)


def _save(model: Any, tokenizer: Any, folder: Path) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def quantise_with_guard(
    source: Path,
    target: Path,
    methods: Sequence[QuantMethod],
    score: Callable[[Any], float],
    reference: float,
    floor: float,
) -> QuantChoice:
    """Quantise ``source`` by each method in turn (smallest first); keep the first scoring >= ``floor`` x ``reference``.

    ``score`` measures a loaded quantised model (the runner: held-out F1). When none reaches the floor, the best
    scoring is kept (the later, larger one on a tie). The kept one ends in ``target``, the others are deleted.
    """
    tried: list[tuple[Candidate, Path]] = []
    for method in methods:
        folder = target.with_name(f"{target.name}.{method.value}")
        save_quantized(source, folder, method)
        f1 = score(load_quantized(folder))
        kept = f1 / reference if reference > 0 else None
        tried.append((Candidate(method=method.value, size_bytes=weights_size(folder), f1=f1, kept=kept), folder))
        if f1 >= floor * reference:
            break
    best, folder = tried[-1]
    met = best.f1 >= floor * reference
    if not met:
        best, folder = max(reversed(tried), key=lambda pair: pair[0].f1)
    for _candidate, other in tried:
        if other != folder:
            shutil.rmtree(other)
    folder.rename(target)
    how = "the smallest that keeps" if met else f"the best F1: none of {len(tried)} keeps"
    return QuantChoice(
        floor=floor,
        reference_f1=reference,
        candidates=[candidate for candidate, _folder in tried],
        chosen=best.method,
        met=met,
        reason=f"{how} {floor:.0%} of the recovered F1",
    )


def run_compression(
    pipeline: Pipeline,
    memories: Sequence[MemoryEntry],
    domain_counts: Mapping[str, int],
    options: CompressOptions | None = None,
    notify: Notify | None = None,
    progress: Progress | None = None,
) -> CompressionReport:
    """Prune the personal model to this user's domains, recover it by distillation, quantise it, measure it all.

    ``memories`` are the active memories (their domains pick the texts), ``domain_counts`` the trainer's
    ``TrainerStore.domain_counts()``. Needs prepared training data (``Pipeline.prepare``). The trainer
    sidecar's optional pruning pass calls this with the same arguments as ``pmem train compress``.
    """
    import torch

    options = options or CompressOptions()
    say = notify or (lambda _line: None)
    torch.set_num_threads(options.threads)
    train = pipeline.examples(data.INSTRUCTION_FILE)
    held_out = pipeline.examples(data.EVAL_FILE)
    if not train or not held_out:
        raise TrainingDataError("The prepared dataset has no examples: remember something, then `pmem train prepare`.")
    plan = plan_domains(domain_counts, options.keep_above, options.prune_below)
    run_id = f"c{utcnow():%Y%m%dT%H%M%S}"
    run_dir = compressed_dir(pipeline.paths) / run_id
    scratch = run_dir / "measure"
    stages: list[StageReport] = []

    def record(step: str, detail: str, model: Any, folder: Path) -> None:
        say(f"measuring {step}")
        stages.append(measure(step, detail, model, tokenizer, folder, held_out, options.max_new_tokens))

    say("loading the personal model")
    original, tokenizer, source = personal_model(pipeline)
    record("original", source, original, _save(original, tokenizer, scratch / "original"))

    say("scoring heads and neurons")
    keep_ids, pruned_texts = split_memories(memories, plan)
    max_len = options.recovery.max_length
    keep = [e for e in train if e.memory_id in keep_ids] or train
    keep_items = [
        encode(tokenizer, e.question, e.answer, 1.0, max_len) for e in _spread(keep, options.importance_texts)
    ]
    texts = [t for domain_texts in pruned_texts.values() for t in domain_texts]
    pruned_items = [_text_item(tokenizer, t, max_len) for t in _spread(texts, options.importance_texts)]
    importance = unit_importance(original, keep_items, pruned_items, pad_id_of(tokenizer), options.contrast)

    say("pruning")
    shape = Shape.of(original.config)
    pruned = apply_pruning(original, plan_pruning(importance, shape, options.prune))
    new = Shape.of(pruned.config)
    detail = f"heads {shape.heads}->{new.heads}, kv heads {shape.kv_heads}->{new.kv_heads}, "
    detail += f"ffn {shape.intermediate}->{new.intermediate}"
    record("pruned", detail, pruned, _save(pruned, tokenizer, scratch / "pruned"))

    say("recovering by distillation from the original")
    recovered, result = recover(pruned, original, tokenizer, train, options.recovery, progress)
    recovered_dir = _save(recovered, tokenizer, run_dir / "recovered")
    record(
        "recovered", f"{result.steps} distillation steps ({options.recovery.epochs} epochs)", recovered, recovered_dir
    )
    shutil.rmtree(scratch)
    del original

    methods = quantization_candidates(options.quantize, torch.cuda.is_available())
    choice = None
    if methods != (QuantMethod.NONE,):
        say(f"quantising: {', '.join(m.value for m in methods)}, the first keeping {options.min_quality_kept:.0%} F1")
        choice = quantise_with_guard(
            recovered_dir,
            run_dir / "quantised",
            methods,
            lambda model: evaluate(model, tokenizer, held_out, options.max_new_tokens).f1,
            stages[-1].f1,
            options.min_quality_kept,
        )
        method = QuantMethod(choice.chosen)
        record("quantised", method.label, load_quantized(run_dir / "quantised"), run_dir / "quantised")
    report = CompressionReport(
        run_id=run_id,
        folder=run_dir,
        source=source,
        domains=plan,
        prune=options.prune,
        quantisation=QuantMethod(choice.chosen).label if choice else QuantMethod.NONE.label,
        quantisation_choice=choice,
        recovery=Recovery(
            mode=result.mode,
            epochs=options.recovery.epochs,
            steps=result.steps,
            seconds=round(result.seconds, 2),
            final_loss=result.final_loss,
        ),
        held_out=len(held_out),
        stages=stages,
    )
    (run_dir / "report.json").write_text(report.model_dump_json(indent=2))
    return report
