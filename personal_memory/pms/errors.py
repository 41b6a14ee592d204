"""Errors the memory system raises; the MCP and CLI layers translate them for their callers."""


class PMSError(Exception):
    """Base class: the message says what went wrong and how to recover."""


class InvalidMemoryError(PMSError, ValueError):
    """The caller's input cannot be stored (empty, oversized, undecodable, bad enum value)."""


class MemoryNotFoundError(PMSError, LookupError):
    """No live memory has this id."""


class EmbedderUnavailableError(PMSError, RuntimeError):
    """The embedding model cannot be loaded or built."""


class StoreMismatchError(PMSError, RuntimeError):
    """A store was written with another embedding space or a newer schema than this version reads."""
