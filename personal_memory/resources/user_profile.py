"""``memory://user_profile``: the user's whole profile as SEED.md's ``<user_profile>`` XML, always current."""

from __future__ import annotations

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from personal_memory.context.formats import to_claude_xml
from personal_memory.context.profile import build_profile
from personal_memory.pms.errors import PMSError
from personal_memory.tools.runtime import AppState

URI = "memory://user_profile"


def register(server: MCPServer, app: AppState) -> None:
    @server.resource(
        URI,
        name="user_profile",
        title="User profile",
        description="Everything important known about the user, as <user_profile> XML for the system prompt.",
        mime_type="application/xml",
    )
    async def user_profile() -> str:
        try:
            return await anyio.to_thread.run_sync(lambda: to_claude_xml(build_profile(app.service)))
        except PMSError as exc:
            raise ResourceError(str(exc)) from exc
