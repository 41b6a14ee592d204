"""Examples -> token ids: the prompt as the model will see it, the answer as the only supervised part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from personal_memory.plm.data import SYSTEM_PROMPT

if TYPE_CHECKING:
    import torch

IGNORE = -100  # label of tokens that carry no loss (prompt, padding)


def render_prompt(tokenizer: Any, question: str) -> str:
    """The chat template when the tokenizer has one (instruct models), else SEED.md's instruction format."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}]
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return f"### Instruction:\n{question}\n\n### Response:\n"


@dataclass(slots=True)
class Encoded:
    """One tokenised example; ``answer_offsets`` are the answer tokens' character spans in the answer."""

    input_ids: list[int]
    labels: list[int]
    weight: float
    prompt_len: int
    answer_offsets: list[tuple[int, int]] = field(default_factory=list)


def encode(tokenizer: Any, question: str, answer: str, weight: float, max_len: int = 256) -> Encoded:
    prompt_ids: list[int] = tokenizer(render_prompt(tokenizer, question), add_special_tokens=False)["input_ids"]
    bos = tokenizer.bos_token_id
    if bos is not None and not getattr(tokenizer, "chat_template", None) and prompt_ids[:1] != [bos]:
        prompt_ids = [bos, *prompt_ids]
    answer_enc = tokenizer(answer, add_special_tokens=False, return_offsets_mapping=True)
    answer_ids: list[int] = [*answer_enc["input_ids"], tokenizer.eos_token_id]
    ids = (prompt_ids + answer_ids)[:max_len]
    labels = ([IGNORE] * len(prompt_ids) + answer_ids)[:max_len]
    return Encoded(ids, labels, weight, len(prompt_ids), [tuple(o) for o in answer_enc["offset_mapping"]])


def pad_id_of(tokenizer: Any) -> int:
    pad = tokenizer.pad_token_id
    return int(pad if pad is not None else tokenizer.eos_token_id)


def collate(items: Sequence[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors: ``input_ids``, ``attention_mask``, ``labels`` and per-example ``weights``."""
    import torch

    width = max(len(e.input_ids) for e in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, item in enumerate(items):
        n = len(item.input_ids)
        ids[row, :n] = torch.tensor(item.input_ids)
        labels[row, :n] = torch.tensor(item.labels)
        mask[row, :n] = 1
    weights = torch.tensor([e.weight for e in items], dtype=torch.float32)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "weights": weights}
