"""MCP tools: one module per tool; each parses input, calls one service, shapes the result."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from personal_memory.tools import correct, feedback, forget, profile, recall, remember, validate
from personal_memory.tools.runtime import AppState

__all__ = ["AppState", "register_tools"]


def register_tools(server: MCPServer, app: AppState) -> None:
    for module in (remember, recall, correct, forget, profile, feedback, validate):
        module.register(server, app)
