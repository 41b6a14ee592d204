"""Claude: SEED.md's ``<user_profile>`` XML, one element per section, text escaped."""

from __future__ import annotations

from xml.sax.saxutils import escape

from personal_memory.context.exporters.plain import Target
from personal_memory.context.models import PersonalContext


def render(ctx: PersonalContext, target: Target) -> str:
    lines = ["<user_profile>"]
    for name, items in ctx.sections().items():
        lines.append(f"  <{name}>")
        lines.extend(f"    - {escape(item.text)}" for item in items)
        lines.append(f"  </{name}>")
    lines.append("</user_profile>")
    return "\n".join(lines)
