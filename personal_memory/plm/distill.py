"""Knowledge distillation (SEED.md phase 2): learn how teacher models answer this user.

Per example, ``loss = alpha * KL(teacher_T || student_T) * T^2 + (1 - alpha) * CE(hard targets)``, with
``T = 2.0`` and ``alpha = 0.5``; the KL is ``F.kl_div(student, teacher)`` in PyTorch's argument order
(the issue's ``KL(student_T || teacher_T)``): Hinton's soft-target loss, averaged over the answer tokens
that have a teacher distribution. Where no position of an example has one, the loss is plain CE.

Soft targets come, per logged interaction, from the first source available (``SoftTargetSource``):
the teacher's logged top-k log-probabilities (API models such as GPT return them), else a local
teacher model's logits when one is configured (it must share the student's tokenizer), else none:
hard targets only. The run report counts each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from personal_memory.plm.batches import IGNORE, Encoded, encode
from personal_memory.pms.interaction_log import Interaction

if TYPE_CHECKING:
    import torch

TEMPERATURE = 2.0
ALPHA = 0.5


class SoftTargetSource(StrEnum):
    TOP_K = "teacher_top_k_logprobs"
    LOCAL_TEACHER = "local_teacher_logits"
    HARD_ONLY = "hard_targets_only"


class TeacherToken(BaseModel):
    """One token of the teacher's response and its top-k alternatives (token text -> log-probability)."""

    token: str
    top_logprobs: dict[str, float] = Field(default_factory=dict)


class TeacherRecord(BaseModel):
    """A logged teacher interaction: the user's query, the teacher's response, and optionally its log-probs."""

    query: str = Field(min_length=1)
    response: str = Field(min_length=1)
    teacher_model: str
    tokens: list[TeacherToken] | None = None
    weight: float = Field(1.0, gt=0)


def teacher_records(interactions: Iterable[Interaction]) -> list[TeacherRecord]:
    """Interactions that carry a teacher answer: ``arguments.query``, ``result.response``, ``result.tokens``."""
    records: list[TeacherRecord] = []
    for item in interactions:
        if not item.ok or not item.teacher_model:
            continue
        try:
            records.append(
                TeacherRecord(
                    query=item.arguments.get("query", ""),
                    response=item.result.get("response", ""),
                    teacher_model=item.teacher_model,
                    tokens=item.result.get("tokens"),
                )
            )
        except ValidationError:
            continue  # a teacher call without a usable query/response teaches nothing
    return records


def distillation_loss(
    student_logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor | None = None,
    temperature: float = TEMPERATURE,
    alpha: float = ALPHA,
) -> torch.Tensor:
    """Per-example loss, shape ``[batch]``. Logits ``[B, L, V]`` at the positions that predict ``labels[:, 1:]``.

    ``teacher_logits`` may be ``-inf`` outside a sparse (top-k) support, or everywhere at positions
    without a teacher distribution.
    """
    import torch
    import torch.nn.functional as F

    logits = student_logits[:, :-1].float()
    targets = labels[:, 1:]
    supervised = targets != IGNORE
    ce_tok = F.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), reduction="none")
    ce = (ce_tok * supervised).sum(1) / supervised.sum(1).clamp(min=1)
    if teacher_logits is None:
        return ce
    teacher = teacher_logits[:, :-1].float()
    support = torch.isfinite(teacher)
    soft = support.any(-1) & supervised
    t_logp = torch.log_softmax(teacher / temperature, dim=-1)
    # Zero probability outside the support, with no NaN or inf anywhere the student's gradient flows.
    t_prob = torch.where(support, t_logp.exp(), 0.0)
    t_logp = torch.where(support, t_logp, 0.0)
    s_logp = torch.log_softmax(logits / temperature, dim=-1)
    kl_tok = (t_prob * (t_logp - s_logp)).sum(-1)
    n_soft = soft.sum(1)
    kl = (kl_tok * soft).sum(1) / n_soft.clamp(min=1) * temperature**2
    return torch.where(n_soft > 0, alpha * kl + (1 - alpha) * ce, ce)


def top_k_targets(
    tokenizer: Any, item: Encoded, response: str, tokens: Sequence[TeacherToken]
) -> dict[int, dict[int, float]]:
    """Map the teacher's top-k log-probs onto student positions: position -> {student token id: log-prob}.

    Teacher and student tokenise differently: a teacher token is used where it starts (leading spaces
    aside) at the same character as a student answer token, and an alternative only if it is one
    student token.
    """
    starts: dict[int, TeacherToken] = {}  # first non-space character of a teacher token -> the token
    offset = 0
    for tok in tokens:
        if response.startswith(tok.token, offset):
            starts[offset + len(tok.token) - len(tok.token.lstrip())] = tok
        offset += len(tok.token)
    targets: dict[int, dict[int, float]] = {}
    for j, (start, _end) in enumerate(item.answer_offsets):
        tok = starts.get(start)
        position = item.prompt_len + j - 1  # the logits at this position predict answer token j
        if tok is None or position >= len(item.input_ids) - 1:
            continue
        mapped: dict[int, float] = {}
        for text, logprob in tok.top_logprobs.items():
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(ids) == 1:
                mapped[ids[0]] = max(logprob, mapped.get(ids[0], float("-inf")))
        if mapped:
            targets[position] = mapped
    return targets


@dataclass(slots=True)
class TrainItem:
    """A tokenised example and where its soft targets come from (``top_k``: position -> {id: log-prob})."""

    encoded: Encoded
    source: SoftTargetSource = SoftTargetSource.HARD_ONLY
    top_k: dict[int, dict[int, float]] = field(default_factory=dict)


def teacher_item(tokenizer: Any, record: TeacherRecord, local_teacher: bool, max_len: int = 256) -> TrainItem:
    """The student's example for a teacher interaction, with the best soft-target source available."""
    item = encode(tokenizer, record.query, record.response, record.weight, max_len)
    top_k = top_k_targets(tokenizer, item, record.response, record.tokens) if record.tokens else {}
    if top_k:
        return TrainItem(item, SoftTargetSource.TOP_K, top_k)
    return TrainItem(item, SoftTargetSource.LOCAL_TEACHER if local_teacher else SoftTargetSource.HARD_ONLY)


def batch_teacher_logits(
    items: Sequence[TrainItem], batch: dict[str, torch.Tensor], vocab: int, teacher: Any | None
) -> torch.Tensor | None:
    """``[B, L, vocab]`` teacher logits for a batch (``-inf`` where an example has none), or None if none has."""
    import torch

    if all(item.source is SoftTargetSource.HARD_ONLY for item in items):
        return None
    ids = batch["input_ids"]
    out = torch.full((*ids.shape, vocab), float("-inf"), device=ids.device)
    for row, item in enumerate(items):
        for position, mapped in item.top_k.items():
            out[row, position, list(mapped)] = torch.tensor(list(mapped.values()), device=ids.device)
    local = [row for row, item in enumerate(items) if item.source is SoftTargetSource.LOCAL_TEACHER]
    if local and teacher is not None:
        with torch.no_grad():
            logits = teacher(input_ids=ids[local], attention_mask=batch["attention_mask"][local]).logits
        out[local] = logits[..., :vocab].float().to(out.device)
    return out


def source_counts(items: Iterable[TrainItem]) -> dict[str, int]:
    return dict(Counter(item.source.value for item in items))
