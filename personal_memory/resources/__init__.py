"""MCP resources."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from personal_memory.resources import context, user_profile
from personal_memory.tools.runtime import AppState

__all__ = ["register_resources"]


def register_resources(server: MCPServer, app: AppState) -> None:
    user_profile.register(server, app)
    context.register(server, app)
