"""``correct``: replace a wrong memory; the correction always wins."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.pms.schema import parse_memory_id
from personal_memory.tools.models import CorrectResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Correct a memory that is wrong or out of date. The correction becomes a new memory that supersedes the "
    "old one; the old one no longer comes back from recall. Get the id from `recall`."
)


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="correct",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False),
    )
    async def correct(
        memory_id: Annotated[str, Field(description="Id of the memory to correct (from recall)")],
        correction: Annotated[str, Field(description="The corrected statement, self-contained")],
        reason: Annotated[
            str | None, Field(description="Why it changed, e.g. 'moved in 2026'", max_length=2000)
        ] = None,
    ) -> CorrectResult:
        def call() -> CorrectResult:
            outcome = app.service.correct(parse_memory_id(memory_id), correction, reason)
            return CorrectResult(
                id=str(outcome.new.id),
                supersedes=str(outcome.old.id),
                tier=outcome.new.tier,
                content=outcome.new.content,
            )

        return await run_tool(
            app, "correct", {"memory_id": memory_id, "correction": correction, "reason": reason}, call
        )
