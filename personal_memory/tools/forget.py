"""``forget``: delete a memory from every tier, from the interaction log and from future training data."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.pms.schema import parse_memory_id
from personal_memory.tools.models import ForgetResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Permanently delete a memory the user wants gone (from every tier). Use only when the user asks to "
    "forget something; to fix a wrong memory use `correct`."
)


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="forget",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True),
    )
    async def forget(
        memory_id: Annotated[str, Field(description="Id of the memory to delete (from recall)")],
    ) -> ForgetResult:
        def call() -> ForgetResult:
            entry = app.service.forget(parse_memory_id(memory_id))
            return ForgetResult(id=str(entry.id), forgotten=True, tier=entry.tier, content=entry.content)

        result = await run_tool(app, "forget", {"memory_id": memory_id}, call)
        from personal_memory.plm.trainer.store import forget_training_data

        # After run_tool has logged this call, so its own row (which names the memory) is redacted too.
        await anyio.to_thread.run_sync(partial(forget_training_data, app.service.paths.trainer, app.log, result.id))
        return result
