"""Does the model know the user? Exact match and token F1 on held-out paraphrased questions.

Scores use SQuAD's normalisation (lower case, no punctuation or articles, single spaces).
``compare`` scores the base model and the adapter on the same questions with one loaded model:
the base is the adapter model with its adapter switched off.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from personal_memory.plm.batches import pad_id_of, render_prompt
from personal_memory.plm.data import Example

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


class Scores(BaseModel):
    exact_match: float
    f1: float
    n: int


class Comparison(BaseModel):
    base: Scores
    adapter: Scores


def normalise(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalise(prediction).split(), normalise(reference).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or common == 0:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def score(predictions: Sequence[str], references: Sequence[str]) -> Scores:
    n = len(references)
    exact = sum(normalise(p) == normalise(r) for p, r in zip(predictions, references, strict=True))
    f1 = sum(token_f1(p, r) for p, r in zip(predictions, references, strict=True))
    return Scores(exact_match=exact / n if n else 0.0, f1=f1 / n if n else 0.0, n=n)


def generate_answers(
    model: Any, tokenizer: Any, questions: Sequence[str], max_new_tokens: int = 48, batch_size: int = 8
) -> list[str]:
    """Greedy answers, generated in left-padded batches."""
    import torch

    device = next(model.parameters()).device
    tokenizer.padding_side = "left"
    answers: list[str] = []
    for start in range(0, len(questions), batch_size):
        prompts = [render_prompt(tokenizer, q) for q in questions[start : start + batch_size]]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=pad_id_of(tokenizer),
                eos_token_id=tokenizer.eos_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]
        answers += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return answers


def evaluate(model: Any, tokenizer: Any, examples: Sequence[Example], max_new_tokens: int = 48) -> Scores:
    predictions = generate_answers(model, tokenizer, [e.question for e in examples], max_new_tokens)
    return score(predictions, [e.answer for e in examples])


def compare(peft_model: Any, tokenizer: Any, examples: Sequence[Example], max_new_tokens: int = 48) -> Comparison:
    """Base (adapter disabled) vs adapter on the same held-out questions."""
    peft_model.eval()
    with peft_model.disable_adapter():
        base = evaluate(peft_model, tokenizer, examples, max_new_tokens)
    return Comparison(base=base, adapter=evaluate(peft_model, tokenizer, examples, max_new_tokens))
