"""``memory://user_profile``: the user's whole profile as SEED.md's ``<user_profile>`` XML, always current."""

from __future__ import annotations

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from personal_memory.pms.errors import PMSError
from personal_memory.tools.runtime import AppState

URI = "memory://user_profile"


async def claude_context(app: AppState, query: str | None) -> str:
    """The context as ``<user_profile>`` XML within the default budget, off the event loop."""
    try:
        return await anyio.to_thread.run_sync(lambda: app.personal_context(query, "claude").text)
    except PMSError as exc:
        raise ResourceError(str(exc)) from exc


def register(server: MCPServer, app: AppState) -> None:
    @server.resource(
        URI,
        name="user_profile",
        title="User profile",
        description="Everything important known about the user, as <user_profile> XML for the system prompt.",
        mime_type="application/xml",
    )
    async def user_profile() -> str:
        return await claude_context(app, None)
