"""``remember``: store something about the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated
from uuid import uuid4

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from personal_memory.pms.schema import ConversationRef, MemorySource, MemoryType, TruthCategory
from personal_memory.pms.service_models import NewMemory
from personal_memory.tools.models import RememberResult
from personal_memory.tools.runtime import AppState, run_tool

DESCRIPTION = (
    "Remember one self-contained fact, preference, skill, belief, event or context about the user. "
    "Write it so it makes sense on its own later (e.g. 'Prefers tabs over spaces in Python'). "
    "Remembering the same thing again corroborates it instead of storing a copy. "
    "To fix a memory that is wrong, use `correct`, not `remember`."
)


SESSION_GAP = timedelta(minutes=30)


@dataclass(slots=True)
class ClientThread:
    """What one server process is told to remember, as a conversation: recall reads a memory with the ones
    remembered just before and after it. A pause of ``SESSION_GAP`` starts a new session."""

    thread: str = field(default_factory=lambda: f"mcp:{uuid4()}")
    session: int = 0
    turn: int = -1
    last: datetime | None = None

    def next(self, now: datetime) -> ConversationRef:
        if self.last is not None and now - self.last > SESSION_GAP:
            self.session, self.turn = self.session + 1, -1
        self.turn += 1
        self.last = now
        return ConversationRef(thread=self.thread, session=self.session, turn=self.turn)


def register(server: MCPServer, app: AppState) -> None:
    thread = ClientThread()

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
        now = app.service.clock()
        request = NewMemory(
            content=content,
            memory_type=memory_type,
            truth_category=truth_category,
            tags=tags or [],
            domains=domains or [],
            source_reliability=confidence,
            source=MemorySource(
                kind="mcp" if source else "conversation",
                reference=source,
                timestamp=now,
                reliability=confidence or app.service.options.default_reliability,
                conversation=thread.next(now),
            ),
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
                corroborates=[str(i) for i in outcome.corroborates],
                contradicts=[str(i) for i in outcome.contradicts],
            )

        arguments = {"content": content, "memory_type": memory_type, "truth_category": truth_category}
        return await run_tool(app, "remember", arguments | {"tags": tags, "domains": domains}, call)
