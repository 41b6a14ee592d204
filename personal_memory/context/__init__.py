"""Context injection: the user's personal context, built from memories and formatted for a target LLM.

This module stays import-light (the CLI reads ``FORMATS`` at start-up); the work is in its submodules.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["DEFAULT_MAX_TOKENS", "FORMATS", "MIN_MAX_TOKENS", "Format"]

Format = Literal["claude", "openai", "ollama", "markdown", "json"]
FORMATS: tuple[str, ...] = get_args(Format)
DEFAULT_MAX_TOKENS = 1200
MIN_MAX_TOKENS = 300  # each format's wrapper around an empty context fits in this (Ollama's needs about 210)
