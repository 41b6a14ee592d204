"""``profile``: the user's personal context, ready to put in a prompt for any LLM."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.context import DEFAULT_MAX_TOKENS, MIN_MAX_TOKENS, Format
from personal_memory.tools.models import ProfileResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Return the user's personal context (preferences, facts, skills, beliefs, context, recent events) to put "
    "in a prompt. With a query, only the memories that bear on it (top 10); without one, the whole profile. "
    "format: 'claude' (<user_profile> XML), 'openai' (chat messages + JSON), 'ollama' (Modelfile + /api/chat), "
    "'markdown' or 'json' (every line with its memory ids)."
)


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="profile",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True),
    )
    async def profile(
        query: Annotated[str | None, Field(description="Optional: what the user is about to ask")] = None,
        format: Annotated[Format, Field(description="Target LLM format")] = "claude",
        max_tokens: Annotated[
            int, Field(ge=MIN_MAX_TOKENS, le=32_000, description="Token budget for the rendered context")
        ] = DEFAULT_MAX_TOKENS,
        limit: Annotated[
            int | None, Field(ge=1, le=200, description="Most memories to include (default 10 with a query, else 40)")
        ] = None,
    ) -> ProfileResult:
        def call() -> ProfileResult:
            out = app.personal_context(query, format, max_tokens, limit)
            return ProfileResult(
                format=format,
                profile=out.text,
                memory_ids=out.context.memory_ids(),
                tokens=out.tokens,
                analysis=out.context.analysis,
            )

        arguments = {"query": query, "format": format, "max_tokens": max_tokens, "limit": limit}
        return await run_tool(app, "profile", arguments, call)
