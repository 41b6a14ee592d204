"""What every tool shares: the app state, and running a service call off the event loop, logged."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from personal_memory.pms.errors import PMSError

if TYPE_CHECKING:
    from personal_memory.config import Settings
    from personal_memory.context.profile import Rendered
    from personal_memory.plm.interfaces import ContextGenerator
    from personal_memory.pms.interaction_log import InteractionLog
    from personal_memory.pms.promotion import PromotionPolicy
    from personal_memory.pms.service import Clock, MemoryService

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT", bound=BaseModel)


class AppState:
    """What the tools, resources and prompts share: the memory service, the interaction log, the promotion
    policy and the PLM's context generator.

    The service and the log are built on first use (normally by the server's warm-up thread), so the server
    answers ``initialize`` and ``tools/list`` before importing the storage engine and numpy.
    """

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.generator: ContextGenerator | None = None
        """The PLM's context generator when one is configured and trained; None: the template generator."""
        self._clock = clock
        self._lock = threading.Lock()
        self._service: MemoryService | None = None
        self._log: InteractionLog | None = None

    @property
    def service(self) -> MemoryService:
        with self._lock:
            if self._service is None:
                from personal_memory.container import build_service

                self._service = build_service(self.settings, self._clock)
            return self._service

    @property
    def log(self) -> InteractionLog:
        with self._lock:
            if self._log is None:
                from personal_memory.container import open_interaction_log

                self._log = open_interaction_log(self.settings)
            return self._log

    def flush(self) -> None:
        """Write what the service holds back (access counts), so a session that ends cleanly loses nothing."""
        with self._lock:
            service = self._service
        if service is not None:
            service.flush_accesses()

    @functools.cached_property
    def policy(self) -> PromotionPolicy:
        return self.settings.promotion_policy()

    def personal_context(
        self, query: str | None, fmt: str, max_tokens: int | None = None, limit: int | None = None
    ) -> Rendered:
        """``context.profile.personal_context`` over this app's service and generator."""
        from personal_memory.context import DEFAULT_MAX_TOKENS
        from personal_memory.context.profile import personal_context

        budget = max_tokens or DEFAULT_MAX_TOKENS
        return personal_context(self.service, query, fmt, budget, limit, generator=self.generator)


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
