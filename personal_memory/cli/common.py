"""Helpers shared by the CLI's command modules."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from personal_memory.config import Settings
    from personal_memory.pms.service import MemoryService

T = TypeVar("T")

MEMORY_TYPES = ["fact", "belief", "preference", "skill", "event", "context"]
TRUTH_CATEGORIES = ["absolute", "contextual", "opinion", "inferred"]
TIERS = ["short_term", "long_term", "persistent"]


def settings_of(ctx: click.Context, **overrides: object) -> Settings:
    """The user's settings, with the global --home and any command flags applied."""
    from pydantic import ValidationError

    from personal_memory.config import load_settings

    try:
        return load_settings(home=ctx.obj.get("home"), **overrides)
    except ValidationError as exc:
        raise click.ClickException(f"Invalid configuration: {exc}") from exc


@contextmanager
def open_service(ctx: click.Context) -> Iterator[MemoryService]:
    from personal_memory.container import build_service

    service = build_service(settings_of(ctx))
    try:
        yield service
    finally:
        service.close()


def run(call: Callable[[], T]) -> T:
    """Turn domain errors into a clean CLI error (exit 1, message on stderr)."""
    from personal_memory.pms.errors import PMSError

    try:
        return call()
    except PMSError as exc:
        raise click.ClickException(str(exc)) from exc


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """Print ``data`` as JSON with --json, else call the human-readable printer."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        human()
