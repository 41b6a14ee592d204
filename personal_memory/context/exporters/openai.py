"""OpenAI (GPT-4 and compatible APIs): the ``messages`` to send, and the profile as a JSON object."""

from __future__ import annotations

import json

from personal_memory.context.exporters.plain import Target, by_section, chat_messages
from personal_memory.context.models import PersonalContext


def render(ctx: PersonalContext, target: Target) -> str:
    payload = {"messages": chat_messages(ctx), "user_profile": by_section(ctx)}
    return json.dumps(payload, indent=2, ensure_ascii=False)
