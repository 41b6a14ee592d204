"""Measuring each compression step: parameters, size on disk, tokens/s, quality, perplexity.

Every number is measured on the model as that step left it: parameters counted in the loaded model,
bytes of the weight files it was saved as, greedy generation speed on this machine, exact match and
token F1 on the user's held-out questions (``plm.evaluate``), and perplexity of the held-out answers.
SEED.md's target: about 95 % of the original's quality at about 1/8 of its fp16 size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from personal_memory.plm.batches import IGNORE, collate, encode, pad_id_of, render_prompt
from personal_memory.plm.compress.domains import DomainPlan
from personal_memory.plm.compress.prune import PruneConfig, count_parameters
from personal_memory.plm.data import Example
from personal_memory.plm.distill import distillation_loss
from personal_memory.plm.evaluate import evaluate

TARGET_QUALITY = 0.95
TARGET_SIZE_OF_FP16 = 1 / 8
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


class StageReport(BaseModel):
    step: str = Field(description="original, pruned, recovered or quantised")
    detail: str
    parameters: int
    size_bytes: int = Field(description="bytes of the weight files on disk")
    tokens_per_second: float
    exact_match: float
    f1: float
    perplexity: float = Field(description="of the held-out answers")


class Candidate(BaseModel):
    method: str
    size_bytes: int
    f1: float = Field(description="on the held-out questions")
    kept: float | None = Field(description="F1 relative to the recovered model's (None when that is 0)")


class QuantChoice(BaseModel):
    """The quality guard: every quantisation tried, smallest first, and the one kept."""

    floor: float = Field(description="share of the recovered model's F1 a candidate must keep")
    reference_f1: float = Field(description="the recovered model's F1")
    candidates: list[Candidate]
    chosen: str
    met: bool = Field(description="whether the chosen candidate keeps the floor")
    reason: str


class Recovery(BaseModel):
    mode: str
    epochs: int
    steps: int
    seconds: float
    final_loss: float


class CompressionReport(BaseModel):
    run_id: str
    folder: Path
    source: str = Field(description="what the original is: the base model, or base + the active adapter")
    domains: DomainPlan
    prune: PruneConfig
    quantisation: str
    quantisation_choice: QuantChoice | None = Field(None, description="None when not quantised")
    recovery: Recovery
    held_out: int
    stages: list[StageReport]

    def stage(self, step: str) -> StageReport:
        return next(s for s in self.stages if s.step == step)

    @property
    def final(self) -> StageReport:
        return self.stages[-1]

    def quality_retained(self, stage: StageReport) -> float | None:
        """F1 on held-out questions relative to the original's (None when the original scores 0)."""
        base = self.stages[0].f1
        return stage.f1 / base if base > 0 else None

    def size_of_fp16(self, stage: StageReport) -> float:
        """Size on disk relative to the original's parameters at 2 bytes each (SEED.md's reference)."""
        return stage.size_bytes / (2 * self.stages[0].parameters)

    def target_met(self) -> bool:
        retained = self.quality_retained(self.final)
        return (
            retained is not None and retained >= TARGET_QUALITY and self.size_of_fp16(self.final) <= TARGET_SIZE_OF_FP16
        )

    def lines(self) -> list[str]:
        """The report as a table (sizes against the original's fp16 size), then where the final model stands."""
        original = self.stages[0]
        fp16 = 2 * original.parameters
        out = [
            f"{'step':10}{'params':>12}{'size':>10}{'of fp16':>9}{'tok/s':>8}{'speed':>7}"
            f"{'EM':>7}{'F1':>7}{'ppl':>10}{'F1 kept':>9}",
            f"fp16 size of the original: {_mb(fp16)} (its weights on disk: {_mb(original.size_bytes)})",
        ]
        for s in self.stages:
            retained = self.quality_retained(s)
            out.append(
                f"{s.step:10}{s.parameters:>12,}{_mb(s.size_bytes):>10}{f'1/{1 / self.size_of_fp16(s):.1f}':>9}"
                f"{s.tokens_per_second:>8.1f}{s.tokens_per_second / original.tokens_per_second:>6.2f}x"
                f"{s.exact_match:>7.3f}{s.f1:>7.3f}{s.perplexity:>10.4g}"
                + (f"{retained:>9.0%}" if retained is not None else f"{'n/a':>9}")
            )
        if choice := self.quantisation_choice:
            out.append(f"quantisations tried (floor {choice.floor:.0%} of the recovered F1 {choice.reference_f1:.3f}):")
            out += [
                f"  {c.method:14}{_mb(c.size_bytes):>10}  F1 {c.f1:.3f}"
                + (f"  kept {c.kept:.0%}" if c.kept is not None else "")
                for c in choice.candidates
            ]
            out.append(f"  chosen: {choice.chosen} ({choice.reason})")
        retained = self.quality_retained(self.final)
        quality = f"{retained:.0%}" if retained is not None else "n/a (the original answers none correctly)"
        out.append(
            f"SEED target: >= {TARGET_QUALITY:.0%} quality at <= 1/8 of fp16 size "
            f"({_mb(fp16 * TARGET_SIZE_OF_FP16)}). {self.final.step}: quality {quality}, "
            f"size 1/{1 / self.size_of_fp16(self.final):.1f} of fp16 -> {'met' if self.target_met() else 'not met'}"
        )
        return out


def _mb(size: float) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def weights_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))


def tokens_per_second(model: Any, tokenizer: Any, question: str, new_tokens: int = 32, repeats: int = 3) -> float:
    """Greedy generation speed of ``new_tokens`` tokens after ``question``'s prompt (batch 1), best of ``repeats``.

    The best run, not the mean: on a CPU shared with other processes the fastest run is the model's speed.
    """
    import torch

    device = next(model.parameters()).device
    enc = tokenizer(render_prompt(tokenizer, question), return_tensors="pt", add_special_tokens=False).to(device)
    kwargs = {"do_sample": False, "pad_token_id": pad_id_of(tokenizer)}  # min_new_tokens holds off EOS
    best = 0.0
    with torch.no_grad():
        model.generate(**enc, max_new_tokens=2, min_new_tokens=2, **kwargs)  # warm-up
        for _ in range(repeats):
            started = time.perf_counter()
            out = model.generate(**enc, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **kwargs)
            best = max(best, (out.shape[1] - enc["input_ids"].shape[1]) / (time.perf_counter() - started))
    return best


def perplexity(model: Any, tokenizer: Any, examples: Sequence[Example], batch_size: int = 8) -> float:
    """exp of the mean token cross-entropy of the answers, given their questions."""
    import torch

    device = next(model.parameters()).device
    items = [encode(tokenizer, e.question, e.answer, 1.0) for e in examples]
    total, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            batch = {
                k: v.to(device) for k, v in collate(items[start : start + batch_size], pad_id_of(tokenizer)).items()
            }
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            counts = (batch["labels"][:, 1:] != IGNORE).sum(1)
            total += float((distillation_loss(logits, batch["labels"]) * counts).sum())
            tokens += int(counts.sum())
    return math.exp(total / max(tokens, 1))


def measure(
    step: str, detail: str, model: Any, tokenizer: Any, folder: Path, held_out: Sequence[Example], max_new_tokens: int
) -> StageReport:
    """One step's numbers, all measured now on ``model`` and the files in ``folder``."""
    model.eval()
    scores = evaluate(model, tokenizer, held_out, max_new_tokens)
    return StageReport(
        step=step,
        detail=detail,
        parameters=count_parameters(model),
        size_bytes=weights_size(folder),
        tokens_per_second=round(tokens_per_second(model, tokenizer, held_out[0].question), 2),
        exact_match=scores.exact_match,
        f1=scores.f1,
        perplexity=round(perplexity(model, tokenizer, held_out), 4),
    )
