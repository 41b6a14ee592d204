"""``validate``: the user confirms a memory is right; it is promoted out of short-term at once."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from personal_memory.pms.schema import Tier, parse_memory_id
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Mark a memory as confirmed by the user (its id from recall or remember), e.g. after they say "
    "'yes, that's right'. A validated memory leaves short-term for long-term memory straight away. "
    "Do not validate on your own judgement; to change a memory use `correct`."
)


class Move(BaseModel):
    from_tier: Tier
    to_tier: Tier
    rule: str = Field(description="The promotion rule that moved it")
    reason: str


class ValidateResult(BaseModel):
    id: str
    validated: bool
    tier: Tier = Field(description="Where the memory is now")
    moves: list[Move] = Field(description="Tier moves this validation triggered")


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="validate",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True),
    )
    async def validate(
        memory_id: Annotated[str, Field(description="Id of the memory the user confirmed (from recall)")],
    ) -> ValidateResult:
        def call() -> ValidateResult:
            from personal_memory.pms.promotion import PromotionEngine

            entry = app.service.validate(parse_memory_id(memory_id))
            decisions = PromotionEngine(app.service, app.policy).run([entry.id])
            moves = [
                Move(from_tier=d.from_tier, to_tier=d.to_tier, rule=d.rule.value, reason=d.reason)
                for d in decisions
                if d.to_tier is not None
            ]
            return ValidateResult(id=str(entry.id), validated=True, tier=app.service.find(entry.id).tier, moves=moves)

        return await run_tool(app, "validate", {"memory_id": memory_id}, call)
