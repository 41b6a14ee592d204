"""Extraction phase: from one logged interaction, what the personal model can learn.

- ``remember`` that created a memory -> a new fact / preference / ... to learn (its type weight);
- ``correct`` -> a correction: the corrected statement is the target, weight x 3.0 (SEED.md);
- ``feedback`` -> a weight multiplier on its target (good x 1.5, bad x 0.5, correction x 3.0 and,
  with a correction text, a new target);
- ``ask`` (a teacher model answered) -> a distillation example (query, teacher response);
- ``recall`` / ``profile`` / ``ask`` -> the domains the query activated (counted for pruning).
Failed calls teach nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from personal_memory.pms.domains import detect_domains
from personal_memory.pms.interaction_log import Interaction

EventKind = Literal["memory", "correction", "teacher"]
Rating = Literal["good", "bad", "correction"]

FEEDBACK_MULTIPLIER: dict[str, float] = {"good": 1.5, "bad": 0.5, "correction": 3.0}
CORRECTION_WEIGHT = 3.0


@dataclass(frozen=True, slots=True)
class LearningEvent:
    """One thing to learn: a statement about the user, or a teacher's answer to a query."""

    kind: EventKind
    text: str
    weight: float = 1.0
    memory_id: str | None = None
    memory_type: str | None = None
    query: str | None = None
    teacher_model: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackSignal:
    target: str
    rating: Rating
    multiplier: float


@dataclass(slots=True)
class Extraction:
    events: list[LearningEvent] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    feedback: list[FeedbackSignal] = field(default_factory=list)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def extract(interaction: Interaction) -> Extraction:
    """The learnable content of one interaction (pure: no I/O)."""
    out = Extraction()
    if not interaction.ok:
        return out
    args, result = interaction.arguments, interaction.result
    match interaction.tool:
        case "remember":
            content = _text(args.get("content"))
            if content and result.get("status") == "created":
                out.events.append(
                    LearningEvent(
                        kind="memory",
                        text=content,
                        memory_id=result.get("id"),
                        memory_type=result.get("memory_type"),
                    )
                )
        case "correct":
            correction = _text(args.get("correction"))
            if correction:
                out.events.append(
                    LearningEvent(
                        kind="correction", text=correction, weight=CORRECTION_WEIGHT, memory_id=result.get("id")
                    )
                )
        case "feedback":
            _extract_feedback(args, result, out)
        case "recall" | "profile" | "ask" | "context":
            query = _text(args.get("query"))
            out.domains.extend(detect_domains(query) if query else [])
            response = _text(result.get("response"))
            if interaction.tool == "ask" and query and response:
                out.events.append(
                    LearningEvent(kind="teacher", text=response, query=query, teacher_model=interaction.teacher_model)
                )
    return out


def _extract_feedback(args: dict[str, Any], result: dict[str, Any], out: Extraction) -> None:
    target = _text(args.get("target_id"))
    rating = _text(args.get("rating"))
    if not target or rating not in FEEDBACK_MULTIPLIER:
        return
    out.feedback.append(FeedbackSignal(target=target, rating=rating, multiplier=FEEDBACK_MULTIPLIER[rating]))  # type: ignore[arg-type]
    correction = _text(args.get("correction"))
    if rating == "correction" and correction:
        out.events.append(
            LearningEvent(
                kind="correction",
                text=correction,
                weight=CORRECTION_WEIGHT,
                memory_id=result.get("new_memory_id") or target,
            )
        )
