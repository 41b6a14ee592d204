"""JSON for any LLM or program: the whole context, with each line's memory ids and the query analysis."""

from __future__ import annotations

from personal_memory.context.exporters.plain import Target
from personal_memory.context.models import PersonalContext


def render(ctx: PersonalContext, target: Target) -> str:
    return ctx.model_dump_json(indent=2)
