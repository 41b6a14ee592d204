"""Build the MCP server over the memory service."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from mcp.server.mcpserver import MCPServer

from personal_memory import __version__
from personal_memory.prompts import register_prompts
from personal_memory.resources import register_resources
from personal_memory.tools import AppState, register_tools

if TYPE_CHECKING:
    from personal_memory.config import Settings
    from personal_memory.pms.promotion import PromotionEngine
    from personal_memory.pms.service import Clock

logger = logging.getLogger(__name__)

INSTRUCTIONS = """\
Personal Memory: a long-term memory of the user, kept on their own machine.
- At the start of a conversation, and before answering anything that may depend on who the user is, \
what they prefer or what they did before, call `recall` (or read `memory://user_profile`).
- When the user tells you something lasting about themselves (a fact, preference, skill, belief, \
plan or event), call `remember` with one self-contained statement per memory.
- When a memory is wrong or out of date, call `correct` with its id; never store a contradicting copy.
- Call `forget` only when the user asks you to forget something.
"""


def _warm_up(app: AppState) -> None:
    """The stores and the model (every first call needs them), then what only ``remember`` needs.

    Then everything alive (modules, the model, the stores) moves to the collector's permanent generation:
    full collections during later calls no longer walk those objects, which made recall's p95 several times
    its median.
    """
    try:
        app.service.warm_up(open_empty_index=False)
        app.service.classifier.classify("warm up")
    except Exception:  # a failed warm-up only delays the first call, which reports the real error
        logger.exception("Background warm-up failed")
    gc.collect()
    gc.freeze()


def _attach_plm(app: AppState, settings: Settings) -> None:
    """Find the trained PLM and start loading it; contexts use the template generator meanwhile."""
    from personal_memory.container import build_plm_generator

    try:
        generator = build_plm_generator(settings)
    except Exception:  # the fast path keeps serving; top-level handler of this thread
        logger.exception("Could not prepare the personal model for context generation")
        return
    if generator is not None:
        generator.start_loading()
        app.generator = generator


async def _promotions(app: AppState, interval_seconds: float) -> None:
    """The promotion engine's schedule; the engine (and the storage engine under it) loads off the event loop."""

    def engine() -> PromotionEngine:
        from personal_memory.pms.promotion import PromotionEngine

        return PromotionEngine(app.service, app.policy)

    built = await anyio.to_thread.run_sync(engine)
    from personal_memory.pms.promotion import run_every  # loaded by now

    await run_every(built, interval_seconds)


def build_server(settings: Settings, warm_up: bool = True, clock: Clock | None = None) -> MCPServer:
    """The server, with stores opened lazily so ``initialize`` and ``tools/list`` answer at once.

    The promotion engine runs in the background every ``promotion_interval_minutes`` (0: never).
    """
    app = AppState(settings, clock)

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[AppState]:
        if warm_up:
            threading.Thread(target=_warm_up, args=(app,), name="pmem-warm-up", daemon=True).start()
        if settings.plm_context:
            threading.Thread(target=_attach_plm, args=(app, settings), name="pmem-plm", daemon=True).start()
        try:
            async with anyio.create_task_group() as background:
                if settings.promotion_interval_minutes > 0:
                    background.start_soon(_promotions, app, settings.promotion_interval_minutes * 60)
                yield app
                background.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(app.flush)

    server = MCPServer(
        name="personal-memory",
        title="Personal Memory",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        log_level=settings.log_level,
    )
    register_tools(server, app)
    register_resources(server, app)
    register_prompts(server, app)
    return server
