"""Personal Memory: a long-term memory of one person for MCP clients, and a personal LM that learns from it."""

__version__ = "0.1.0"

__all__ = ["__version__"]
