"""``recall``: find what is known about the user that bears on a query."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.pms.schema import MemoryType, Tier
from personal_memory.pms.service_models import RecallQuery
from personal_memory.tools.models import RecalledMemory, RecallResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Search the user's memories (all tiers, hybrid semantic + keyword search) and return the most relevant, "
    "best first. Call it before answering anything that may depend on who the user is, what they prefer, "
    "or what they did. Superseded and forgotten memories never come back."
)


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="recall",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True),
    )
    async def recall(
        query: Annotated[str, Field(description="What to look for, in natural language")],
        limit: Annotated[int, Field(ge=1, le=100, description="How many memories to return")] = 10,
        domains: Annotated[list[str] | None, Field(description="Only memories in these domains")] = None,
        memory_types: Annotated[list[MemoryType] | None, Field(description="Only these memory types")] = None,
        tiers: Annotated[list[Tier] | None, Field(description="short_term, long_term and/or persistent")] = None,
        min_confidence: Annotated[float, Field(ge=0.0, le=1.0, description="Skip memories below this")] = 0.0,
    ) -> RecallResult:
        request = RecallQuery(
            text=query,
            limit=limit,
            domains=domains,
            memory_types=memory_types,
            tiers=tiers,
            min_confidence=min_confidence,
        )

        def call() -> RecallResult:
            hits = app.service.recall(request)
            memories = [RecalledMemory.of(h.entry, score=h.score) for h in hits]
            return RecallResult(query=query, count=len(memories), memories=memories)

        arguments = {"query": query, "limit": limit, "domains": domains, "memory_types": memory_types}
        return await run_tool(app, "recall", arguments | {"tiers": tiers, "min_confidence": min_confidence}, call)
