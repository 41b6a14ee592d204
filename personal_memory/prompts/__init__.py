"""MCP prompts a client can pick (for example from a slash menu)."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from personal_memory.prompts import with_my_context
from personal_memory.tools.runtime import AppState

__all__ = ["register_prompts"]


def register_prompts(server: MCPServer, app: AppState) -> None:
    with_my_context.register(server, app)
