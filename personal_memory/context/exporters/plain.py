"""The plain-text context that system-prompt targets (OpenAI, Ollama) share."""

from __future__ import annotations

from dataclasses import dataclass

from personal_memory.context.models import SECTION_TITLES, PersonalContext

PREAMBLE = (
    "You are talking with a user you know. Below is their personal context from their own memory store; "
    "first-person lines are the user's own words. Use it where it helps your answer; do not recite it."
)
EMPTY = "Nothing is known about the user yet."
DEFAULT_MODEL = "llama3.2:3b"


@dataclass(frozen=True, slots=True)
class Target:
    """Where the context goes: the base model, and the user's personal model when one is registered."""

    model: str = DEFAULT_MODEL
    personal_model: str | None = None


def system_prompt(ctx: PersonalContext) -> str:
    """PREAMBLE, then one titled list per section."""
    parts = [PREAMBLE]
    for name, items in ctx.sections().items():
        parts.append(f"{SECTION_TITLES[name]}:\n" + "\n".join(f"- {item.text}" for item in items))
    if ctx.is_empty:
        parts.append(EMPTY)
    return "\n\n".join(parts)


def chat_messages(ctx: PersonalContext) -> list[dict[str, str]]:
    """The system message, then the user's query when there is one (OpenAI and Ollama share this shape)."""
    messages = [{"role": "system", "content": system_prompt(ctx)}]
    if ctx.query:
        messages.append({"role": "user", "content": ctx.query})
    return messages


def by_section(ctx: PersonalContext) -> dict[str, list[str]]:
    return {name: [item.text for item in items] for name, items in ctx.sections().items()}
