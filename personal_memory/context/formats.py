"""Render a personal context for a target LLM, within a token budget.

The budget bounds the rendered text, wrapper included: the lowest-ranked lines go first until it
fits. Only a query longer than the budget itself (OpenAI and Ollama carry it) can leave it over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from personal_memory.context import DEFAULT_MAX_TOKENS, FORMATS
from personal_memory.context.exporters import claude, json_object, markdown, ollama, openai
from personal_memory.context.exporters.plain import Target
from personal_memory.context.models import PersonalContext
from personal_memory.context.tokens import count_tokens

RENDERERS: dict[str, Callable[[PersonalContext, Target], str]] = {
    "claude": claude.render,
    "openai": openai.render,
    "ollama": ollama.render,
    "markdown": markdown.render,
    "json": json_object.render,
}


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    context: PersonalContext  # what the text holds, after the budget dropped what did not fit
    tokens: int


def render(ctx: PersonalContext, fmt: str, target: Target | None = None) -> str:
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"Unknown context format {fmt!r}; choose one of {', '.join(FORMATS)}.") from None
    return renderer(ctx, target or Target())


def fit(ctx: PersonalContext, render_fn: Callable[[PersonalContext], str], max_tokens: int) -> Rendered:
    """Render ``ctx`` with ``render_fn``, dropping its lowest-ranked lines until the text fits ``max_tokens``."""
    text = render_fn(ctx)
    tokens = count_tokens(text)
    while tokens > max_tokens and not ctx.is_empty:
        ctx = ctx.without_lowest()
        text = render_fn(ctx)
        tokens = count_tokens(text)
    return Rendered(text=text, context=ctx, tokens=tokens)


def render_within(
    ctx: PersonalContext, fmt: str, max_tokens: int = DEFAULT_MAX_TOKENS, target: Target | None = None
) -> Rendered:
    """``ctx`` in format ``fmt`` within ``max_tokens`` tokens."""
    return fit(ctx, lambda c: render(c, fmt, target), max_tokens)
