"""The MCP server: composition root (settings -> stores -> server) and transports."""
