"""``with_my_context``: the user's question, preceded by the personal context that bears on it."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from mcp import MCPError
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.types import INVALID_PARAMS
from pydantic import Field

from personal_memory.context import FORMATS
from personal_memory.pms.errors import PMSError
from personal_memory.tools.runtime import AppState

INSTRUCTION = "Answer the question below with this personal context about me in mind."


def register(server: MCPServer, app: AppState) -> None:
    @server.prompt(
        name="with_my_context",
        title="Ask with my context",
        description="Your question, with what your personal memory knows that bears on it prepended.",
    )
    async def with_my_context(
        question: Annotated[str, Field(description="What you want to ask")],
        format: Annotated[str, Field(description=f"Context format: {', '.join(FORMATS)}")] = "claude",
    ) -> UserMessage:
        if format not in FORMATS:
            raise MCPError(INVALID_PARAMS, f"Unknown format {format!r}; choose one of {', '.join(FORMATS)}.")
        try:
            out = await anyio.to_thread.run_sync(lambda: app.personal_context(question, format))
        except PMSError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        return UserMessage(f"{INSTRUCTION}\n\n{out.text}\n\nQuestion: {question}")
