"""``feedback``: tell the personal model whether a memory or an answer was good, bad, or wrong."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.pms.errors import InvalidMemoryError, MemoryNotFoundError
from personal_memory.pms.schema import parse_memory_id
from personal_memory.tools.models import FeedbackResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Rate a memory (its id from recall) or an earlier answer ('interaction:<n>'): 'good' or 'bad' weigh it up "
    "or down when the personal model next learns; 'correction' with the right text also corrects the memory "
    "and trains the model on the correction."
)
INTERACTION_PREFIX = "interaction:"


def register(server: MCPServer, app: AppState) -> None:
    @server.tool(
        name="feedback",
        description=DESCRIPTION,
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False),
    )
    async def feedback(
        target_id: Annotated[str, Field(description="A memory id, or 'interaction:<n>' for a logged answer")],
        rating: Annotated[Literal["good", "bad", "correction"], Field(description="good, bad or correction")],
        correction: Annotated[
            str | None, Field(description="With rating 'correction': the right statement or answer")
        ] = None,
    ) -> FeedbackResult:
        def call() -> FeedbackResult:
            target = target_id.strip()
            if rating == "correction" and not (correction and correction.strip()):
                raise InvalidMemoryError("A 'correction' rating needs the corrected text in `correction`.")
            new_id: str | None = None
            if target.startswith(INTERACTION_PREFIX):
                seq = target.removeprefix(INTERACTION_PREFIX)
                if not seq.isdigit() or not app.log.exists(int(seq)):
                    raise MemoryNotFoundError(f"No logged interaction {target!r}; ids look like 'interaction:12'.")
            else:
                memory_id = parse_memory_id(target)
                if rating == "correction" and correction:
                    new_id = str(app.service.correct(memory_id, correction, reason="feedback").new.id)
                else:
                    app.service.find_active(memory_id)
            from personal_memory.plm.trainer.extraction import FEEDBACK_MULTIPLIER

            return FeedbackResult(
                target_id=target, rating=rating, weight_multiplier=FEEDBACK_MULTIPLIER[rating], new_memory_id=new_id
            )

        arguments = {"target_id": target_id, "rating": rating, "correction": correction}
        return await run_tool(app, "feedback", arguments, call)
