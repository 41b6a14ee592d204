"""``remember``: store something about the user."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.pms.schema import MemorySource, MemoryType, TruthCategory
from personal_memory.pms.service import NewMemory
from personal_memory.tools.models import RememberResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Remember one self-contained fact, preference, skill, belief, event or context about the user. "
    "Write it so it makes sense on its own later (e.g. 'Prefers tabs over spaces in Python'). "
    "Remembering the same thing again corroborates it instead of storing a copy. "
    "To fix a memory that is wrong, use `correct`, not `remember`."
)


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="remember",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False),
    )
    async def remember(
        content: Annotated[str, Field(description="The memory, one self-contained statement (max 32 KiB)")],
        memory_type: Annotated[
            MemoryType | None, Field(description="fact, belief, preference, skill, event or context")
        ] = None,
        truth_category: Annotated[
            TruthCategory | None,
            Field(description="absolute (verifiable), contextual, opinion or inferred"),
        ] = None,
        tags: Annotated[list[str] | None, Field(description="Free tags, e.g. ['identity']", max_length=50)] = None,
        domains: Annotated[
            list[str] | None, Field(description="Knowledge domains, e.g. ['python', 'cooking']", max_length=50)
        ] = None,
        confidence: Annotated[
            float | None, Field(ge=0.0, le=1.0, description="How reliable the source is, 0..1 (default 0.8)")
        ] = None,
        source: Annotated[
            str | None, Field(description="Where it came from, e.g. 'user said so', a file or a URL", max_length=2000)
        ] = None,
    ) -> RememberResult:
        request = NewMemory(
            content=content,
            memory_type=memory_type,
            truth_category=truth_category,
            tags=tags or [],
            domains=domains or [],
            source_reliability=confidence,
            source=MemorySource(kind="mcp", reference=source, reliability=confidence or 0.8) if source else None,
        )

        def call() -> RememberResult:
            outcome = app.service.remember(request)
            entry = outcome.entry
            return RememberResult(
                id=str(entry.id),
                tier=entry.tier,
                status="created" if outcome.created else "corroborated",
                memory_type=entry.memory_type,
                truth_category=entry.truth_category,
                confidence=round(entry.confidence.overall, 4),
                corroboration_count=entry.confidence.corroboration_count,
            )

        arguments = {"content": content, "memory_type": memory_type, "truth_category": truth_category}
        return await run_tool(app, "remember", arguments | {"tags": tags, "domains": domains}, call)
