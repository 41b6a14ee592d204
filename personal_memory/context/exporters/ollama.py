"""Ollama: a Modelfile with the context as its ``SYSTEM`` block, and the ``/api/chat`` request.

The request names the user's personal model when one is registered in Ollama (the PLM replaces the
base model), otherwise the base model.
"""

from __future__ import annotations

import json
from typing import TypedDict

from personal_memory.context.exporters.plain import Target, chat_messages, system_prompt
from personal_memory.context.models import PersonalContext


def modelfile(ctx: PersonalContext, base_model: str) -> str:
    # A Modelfile string ends at the next triple quote and has no escape for one: soften any inside.
    system = system_prompt(ctx).replace('"""', "'''")
    return f'FROM {base_model}\nSYSTEM """\n{system}\n"""\n'


class ChatRequest(TypedDict):
    """The JSON body of ``POST /api/chat``."""

    model: str
    messages: list[dict[str, str]]
    stream: bool


def chat_request(ctx: PersonalContext, target: Target) -> ChatRequest:
    return {"model": target.personal_model or target.model, "messages": chat_messages(ctx), "stream": False}


def render(ctx: PersonalContext, target: Target) -> str:
    payload = {"modelfile": modelfile(ctx, target.model), "chat": chat_request(ctx, target)}
    return json.dumps(payload, indent=2, ensure_ascii=False)
