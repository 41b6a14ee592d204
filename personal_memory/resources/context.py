"""``memory://context/{query}``: the user's context for one query, as ``<user_profile>`` XML."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer, ResourceSecurity

from personal_memory.resources.user_profile import claude_context
from personal_memory.tools.runtime import AppState

URI_TEMPLATE = "memory://context/{query}"


def register(server: MCPServer, app: AppState) -> None:
    @server.resource(
        URI_TEMPLATE,
        name="context",
        title="Context for a query",
        description="What the user's memory says that bears on QUERY (URL-encoded), as <user_profile> XML.",
        mime_type="application/xml",
        # The query is text for a search, never a path: '..' or a leading '/' in it is harmless.
        security=ResourceSecurity(exempt_params={"query"}),
    )
    async def context(query: str) -> str:
        return await claude_context(app, query)
