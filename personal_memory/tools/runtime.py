"""What every tool shares: the app state, and running a service call off the event loop, logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from personal_memory.plm.interfaces import ContextGenerator
from personal_memory.pms.errors import PMSError
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.promotion import PromotionPolicy
from personal_memory.pms.service import MemoryService

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(slots=True)
class AppState:
    service: MemoryService
    log: InteractionLog
    policy: PromotionPolicy = field(default_factory=PromotionPolicy)
    generator: ContextGenerator | None = None
    """The PLM's context generator when one is configured and trained; None: the template generator."""


def _memory_ids(dumped: dict[str, Any]) -> list[str]:
    """Every memory id a dumped result mentions, for the trainer to join the log with the store."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in {"id", "supersedes", "memory_ids"}:
                    found.extend(v for v in (item if isinstance(item, list) else [item]) if isinstance(v, str))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(dumped)
    return list(dict.fromkeys(found))


async def run_tool(app: AppState, tool: str, arguments: dict[str, Any], call: Callable[[], ResultT]) -> ResultT:
    """Run ``call`` and log it in one worker thread; turn domain errors into MCP tool errors."""

    def logged() -> ResultT:
        try:
            result = call()
        except PMSError as exc:
            _log(app, tool, arguments, None, str(exc))
            raise
        _log(app, tool, arguments, result, None)
        return result

    try:
        return await anyio.to_thread.run_sync(logged)
    except PMSError as exc:
        raise ToolError(str(exc)) from exc


def _log(app: AppState, tool: str, arguments: dict[str, Any], result: BaseModel | None, error: str | None) -> None:
    try:
        dumped = result.model_dump(mode="json") if result is not None else {}
        app.log.append(app.service.clock(), tool, arguments, dumped, _memory_ids(dumped), error=error)
    except Exception:  # the log must never break a tool call; top-level handler by design
        logger.exception("Could not append to the interaction log")
