"""Markdown for any LLM or a human reader: a heading per section."""

from __future__ import annotations

from personal_memory.context.exporters.plain import EMPTY, Target
from personal_memory.context.models import SECTION_TITLES, PersonalContext


def render(ctx: PersonalContext, target: Target) -> str:
    lines = ["# User profile"]
    if ctx.query:
        lines.append(f"\n_Focused on: {ctx.query}_")
    for name, items in ctx.sections().items():
        lines.append(f"\n## {SECTION_TITLES[name]}")
        lines.extend(f"- {item.text}" for item in items)
    if ctx.is_empty:
        lines.append(f"\n{EMPTY}")
    return "\n".join(lines)
