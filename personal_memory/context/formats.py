"""Render a profile for a target LLM: Claude XML (SEED.md's ``<user_profile>``), Markdown or JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from xml.sax.saxutils import escape

from personal_memory.context.profile import Profile

ProfileFormat = Literal["claude", "markdown", "json"]

_TITLES = {
    "preferences": "Preferences",
    "facts": "Facts",
    "skills": "Skills",
    "beliefs": "Beliefs",
    "context": "Context",
    "recent_events": "Recent events",
}


def to_claude_xml(profile: Profile) -> str:
    lines = ["<user_profile>"]
    for name, items in profile.sections.items():
        if not items:
            continue
        lines.append(f"  <{name}>")
        lines.extend(f"    - {escape(item.text)}" for item in items)
        lines.append(f"  </{name}>")
    lines.append("</user_profile>")
    return "\n".join(lines)


def to_markdown(profile: Profile) -> str:
    lines = ["# User profile"]
    if profile.query:
        lines.append(f"\n_Focused on: {profile.query}_")
    for name, items in profile.sections.items():
        if not items:
            continue
        lines.append(f"\n## {_TITLES[name]}")
        lines.extend(f"- {item.text}" for item in items)
    if profile.is_empty:
        lines.append("\nNothing is known about the user yet.")
    return "\n".join(lines)


def to_json(profile: Profile) -> str:
    return profile.model_dump_json(indent=2)


RENDERERS: dict[str, Callable[[Profile], str]] = {"claude": to_claude_xml, "markdown": to_markdown, "json": to_json}


def render(profile: Profile, fmt: str) -> str:
    try:
        return RENDERERS[fmt](profile)
    except KeyError:
        raise ValueError(f"Unknown profile format {fmt!r}; choose one of {', '.join(RENDERERS)}.") from None
