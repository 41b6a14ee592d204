"""``profile``: the user's personal context, ready to put in a prompt."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.context.formats import render
from personal_memory.context.profile import build_profile
from personal_memory.tools.models import ProfileResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Return the user's personal context (preferences, facts, skills, beliefs, context, recent events). "
    "With a query, focus on what bears on it. format: 'claude' (<user_profile> XML), 'markdown' or 'json'."
)


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="profile",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True),
    )
    async def profile(
        query: Annotated[str | None, Field(description="Optional: what the user is about to ask")] = None,
        format: Annotated[Literal["claude", "markdown", "json"], Field(description="Output format")] = "claude",
        limit: Annotated[int, Field(ge=1, le=200, description="Most memories to include")] = 40,
    ) -> ProfileResult:
        def call() -> ProfileResult:
            built = build_profile(app.service, query, limit)
            return ProfileResult(format=format, profile=render(built, format), memory_ids=built.memory_ids())

        return await run_tool(app, "profile", {"query": query, "format": format, "limit": limit}, call)
