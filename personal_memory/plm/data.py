"""Data preparation (SEED.md phase 1): memories -> question/answer training examples.

Every active memory becomes several templated questions (offline, no model needed) answered by the
memory in the second person, in both SEED.md formats: instruction (``instruction/input/output``) and
chat (``messages``). A held-out set asks the same things with phrasings never used in training, so
evaluation measures recall of the person's memories rather than of the templates.

Weights: ``TYPE_WEIGHTS[type] * confidence.overall``, times ``CORRECTION_BOOST`` for a memory that
corrects another (SEED.md: "Correction -> weight x 3.0, use correction as target"). A correction is
also asked the questions its superseded memory would have produced, answered with the correction.
Superseded and expired memories are never used: only active memories are passed in.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from pydantic import BaseModel, Field

from personal_memory.pms.schema import MemoryEntry, MemoryType, utcnow

SYSTEM_PROMPT = "You are a personal AI assistant. Answer from what you know about the user."

# SEED.md's "Weight in PLM" column as numbers: High 1.0, Medium-High 0.85, Medium 0.7, Low 0.4.
TYPE_WEIGHTS: dict[MemoryType, float] = {
    MemoryType.FACT: 1.0,
    MemoryType.PREFERENCE: 1.0,
    MemoryType.BELIEF: 0.85,
    MemoryType.SKILL: 0.7,
    MemoryType.CONTEXT: 0.7,
    MemoryType.EVENT: 0.4,
}
CORRECTION_BOOST = 3.0

TRAIN_TEMPLATES = (
    "What do you know about me and {topic}?",
    "Tell me what you remember about {topic}.",
    "What should you keep in mind about my {topic}?",
)
TYPE_TEMPLATES: dict[MemoryType, str] = {
    MemoryType.FACT: "What is true about me regarding {topic}?",
    MemoryType.PREFERENCE: "What are my preferences about {topic}?",
    MemoryType.BELIEF: "What do I believe about {topic}?",
    MemoryType.SKILL: "What can I do with {topic}?",
    MemoryType.EVENT: "What happened with {topic}?",
    MemoryType.CONTEXT: "What is my situation with {topic}?",
}
# Held-out paraphrases: used only for evaluation, never for training.
EVAL_TEMPLATES = (
    "Remind me what you know concerning {topic}.",
    "Regarding {topic}, what do you remember about me?",
)

_STOPWORDS = frozenset(
    "a an the and or but if of in on at to for from by with about over under into as is are was were be been "
    "am do does did have has had i me my mine myself we our you your it its this that these those there here "
    "very really always usually often never not no so than then too also just like likes prefer prefers love "
    "loves hate hates think thinks believe believes use uses using i'm i've i'd i'll".split()
)
_PRONOUNS = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd",
}  # fmt: skip
_PRONOUN_RE = re.compile(r"\bI was\b|\b(?:" + "|".join(sorted(_PRONOUNS, key=len, reverse=True)) + r")\b", re.I)


@dataclass(frozen=True, slots=True)
class Example:
    """One question about the user and the answer the model should give."""

    question: str
    answer: str
    weight: float
    memory_id: str
    memory_type: str


class DatasetManifest(BaseModel):
    """What a dataset was built from, so a training run can be reproduced and audited."""

    created_at: datetime = Field(default_factory=utcnow)
    memory_ids: list[str]
    counts: dict[str, int]
    type_weights: dict[str, float]
    correction_boost: float
    files: dict[str, str] = Field(description="file name -> sha256 of its bytes")
    sha256: str = Field(description="hash over the files' hashes: the dataset's identity")


def second_person(text: str) -> str:
    """Rewrite a first-person memory as said to the user ("I prefer tabs" -> "You prefer tabs")."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        out = "you were" if lower == "i was" else _PRONOUNS[lower]
        return out[0].upper() + out[1:] if match.start() == 0 else out

    return _PRONOUN_RE.sub(swap, text.strip())


def topic_of(entry: MemoryEntry, max_words: int = 4) -> str:
    """A short subject for the questions: the memory's first content words ("live Lyon two cats").

    Content words rather than entities or domains, which several memories often share: two memories
    asked the same question with different answers would teach the model neither.
    """
    words = [w for w in re.findall(r"[\w'-]+", entry.content) if w.lower() not in _STOPWORDS]
    return " ".join(words[:max_words]) or entry.content.strip()


def memory_weight(entry: MemoryEntry) -> float:
    boost = CORRECTION_BOOST if entry.supersedes is not None else 1.0
    return round(TYPE_WEIGHTS[entry.memory_type] * entry.confidence.overall * boost, 4)


def _examples(entry: MemoryEntry, templates: Sequence[str], topics: Sequence[str]) -> list[Example]:
    answer = second_person(entry.content)
    weight = memory_weight(entry)
    questions = dict.fromkeys(t.format(topic=topic) for topic in topics for t in templates)
    return [Example(q, answer, weight, str(entry.id), entry.memory_type.value) for q in questions]


def build_examples(
    memories: Sequence[MemoryEntry], superseded: Mapping[UUID, MemoryEntry]
) -> tuple[list[Example], list[Example]]:
    """Training and held-out examples for ``memories`` (active only); ``superseded`` maps ids of replaced ones."""
    train: list[Example] = []
    held_out: list[Example] = []
    for entry in sorted(memories, key=lambda m: str(m.id)):
        topics = [topic_of(entry)]
        old = superseded.get(entry.supersedes) if entry.supersedes else None
        if old is not None:
            topics.append(topic_of(old))
        train += _examples(entry, (*TRAIN_TEMPLATES, TYPE_TEMPLATES[entry.memory_type]), topics)
        held_out += _examples(entry, EVAL_TEMPLATES, topics[:1])
    return train, held_out


def instruction_record(example: Example) -> dict[str, object]:
    return {"instruction": example.question, "input": "", "output": example.answer, **_meta(example)}


def chat_record(example: Example) -> dict[str, object]:
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": example.question},
        {"role": "assistant", "content": example.answer},
    ]
    return {"messages": messages, **_meta(example)}


def _meta(example: Example) -> dict[str, object]:
    return {"weight": example.weight, "memory_id": example.memory_id, "memory_type": example.memory_type}


INSTRUCTION_FILE = "instruction.jsonl"
CHAT_FILE = "chat.jsonl"
EVAL_FILE = "eval.jsonl"
MANIFEST_FILE = "manifest.json"


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> str:
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records).encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write_dataset(folder: Path, train: list[Example], held_out: list[Example]) -> DatasetManifest:
    """Write the instruction, chat and held-out JSONL files and their manifest into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        INSTRUCTION_FILE: _write_jsonl(folder / INSTRUCTION_FILE, [instruction_record(e) for e in train]),
        CHAT_FILE: _write_jsonl(folder / CHAT_FILE, [chat_record(e) for e in train]),
        EVAL_FILE: _write_jsonl(folder / EVAL_FILE, [instruction_record(e) for e in held_out]),
    }
    memory_ids = sorted({e.memory_id for e in train})
    by_type = Counter(e.memory_type for e in train)
    manifest = DatasetManifest(
        memory_ids=memory_ids,
        counts={"memories": len(memory_ids), "examples": len(train), "eval": len(held_out)}
        | {f"examples_{t}": n for t, n in sorted(by_type.items())},
        type_weights={t.value: w for t, w in TYPE_WEIGHTS.items()},
        correction_boost=CORRECTION_BOOST,
        files=files,
        sha256=hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(files.items())).encode()).hexdigest(),
    )
    (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2))
    return manifest


def read_manifest(folder: Path) -> DatasetManifest:
    return DatasetManifest.model_validate_json((folder / MANIFEST_FILE).read_text())


def read_examples(path: Path) -> list[Example]:
    """Examples from an instruction-format JSONL file written by ``write_dataset``."""
    out: list[Example] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        out.append(Example(r["instruction"], r["output"], float(r["weight"]), r["memory_id"], r["memory_type"]))
    return out
