"""``pmem``: run the MCP server, and use the memory from scripts and the shell."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from personal_memory.config import Settings
    from personal_memory.pms.service import MemoryService

T = TypeVar("T")

MEMORY_TYPES = ["fact", "belief", "preference", "skill", "event", "context"]
TRUTH_CATEGORIES = ["absolute", "contextual", "opinion", "inferred"]
TIERS = ["short_term", "long_term", "persistent"]


def _settings(ctx: click.Context) -> Settings:
    from pydantic import ValidationError

    from personal_memory.config import load_settings

    try:
        return load_settings(home=ctx.obj.get("home"))
    except ValidationError as exc:
        raise click.ClickException(f"Invalid configuration: {exc}") from exc


@contextmanager
def _service(ctx: click.Context) -> Iterator[MemoryService]:
    from personal_memory.container import build_service

    service = build_service(_settings(ctx))
    try:
        yield service
    finally:
        service.close()


def _run(call: Callable[[], T]) -> T:
    """Turn domain errors into a clean CLI error (exit 1, message on stderr)."""
    from personal_memory.pms.errors import PMSError

    try:
        return call()
    except PMSError as exc:
        raise click.ClickException(str(exc)) from exc


def _emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        human()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), envvar="PMEM_HOME", help="Data dir (default ~/.pmem).")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
@click.version_option(package_name="personal-memory")
@click.pass_context
def main(ctx: click.Context, home: Path | None, verbose: int) -> None:
    """Personal Memory: a long-term memory of you for Claude and other MCP clients.

    Everything stays on this machine under the data dir (~/.pmem, or PMEM_HOME).
    Start the MCP server with `pmem serve`; the other commands work on the same memory.
    """
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["home"] = home


@main.command()
@click.option(
    "--transport",
    type=click.Choice(["stdio", "sse", "streamable-http"]),
    default="stdio",
    show_default=True,
    help="stdio for Claude Desktop / Claude Code; sse or streamable-http to serve over HTTP.",
)
@click.option("--host", default=None, help="HTTP bind address (default 127.0.0.1; others need --token).")
@click.option("--port", type=int, default=None, help="HTTP port (default 8765).")
@click.option("--token", default=None, envvar="PMEM_TOKEN", help="Bearer token HTTP clients must send.")
@click.pass_context
def serve(ctx: click.Context, transport: str, host: str | None, port: int | None, token: str | None) -> None:
    """Run the MCP server (stdio by default). Logs go to stderr; stdout is the protocol."""
    from personal_memory.config import load_settings
    from personal_memory.server.transports import TransportConfigError, serve as run_server

    settings = load_settings(home=ctx.obj.get("home"), host=host, port=port, token=token)
    try:
        run_server(settings, transport)  # type: ignore[arg-type]
    except TransportConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.pass_context
def setup(ctx: click.Context) -> None:
    """Create the data dir and prepare the embedding model (a one-time ONNX export)."""
    settings = _settings(ctx)
    from personal_memory.container import build_embedder

    settings.paths.ensure()
    click.echo(f"Data dir: {settings.paths.home}")
    _run(build_embedder(settings).warm_up)
    click.echo("Embedding model ready.")


@main.command()
@click.argument("content")
@click.option("--type", "memory_type", type=click.Choice(MEMORY_TYPES), help="Memory type.")
@click.option("--truth", type=click.Choice(TRUTH_CATEGORIES), help="Truth category.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--domain", "domains", multiple=True, help="A knowledge domain (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def remember(
    ctx: click.Context,
    content: str,
    memory_type: str | None,
    truth: str | None,
    tags: tuple[str, ...],
    domains: tuple[str, ...],
    as_json: bool,
) -> None:
    """Remember CONTENT (one self-contained statement about you)."""
    from personal_memory.pms.schema import MemorySource, MemoryType, TruthCategory
    from personal_memory.pms.service import NewMemory

    request = NewMemory(
        content=content,
        memory_type=MemoryType(memory_type) if memory_type else None,
        truth_category=TruthCategory(truth) if truth else None,
        tags=list(tags),
        domains=list(domains),
        source=MemorySource(kind="cli", reference="pmem remember"),
    )
    with _service(ctx) as service:
        outcome = _run(lambda: service.remember(request))
    entry = outcome.entry
    status = "created" if outcome.created else "corroborated"
    data = {"id": str(entry.id), "tier": entry.tier.value, "status": status, "confidence": entry.confidence.overall}
    _emit(data, as_json, lambda: click.echo(f"{status} {entry.id} ({entry.tier.value})"))


@main.command()
@click.argument("query")
@click.option("-n", "--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--domain", "domains", multiple=True, help="Only these domains (repeatable).")
@click.option("--type", "memory_types", multiple=True, type=click.Choice(MEMORY_TYPES), help="Only these types.")
@click.option("--tier", "tiers", multiple=True, type=click.Choice(TIERS), help="Only these tiers.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def recall(
    ctx: click.Context,
    query: str,
    limit: int,
    domains: tuple[str, ...],
    memory_types: tuple[str, ...],
    tiers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Find the memories that bear on QUERY, best first."""
    from personal_memory.pms.schema import MemoryType, Tier
    from personal_memory.pms.service import RecallQuery

    request = RecallQuery(
        text=query,
        limit=limit,
        domains=list(domains) or None,
        memory_types=[MemoryType(t) for t in memory_types] or None,
        tiers=[Tier(t) for t in tiers] or None,
    )
    with _service(ctx) as service:
        hits = _run(lambda: service.recall(request))
    data = [
        {"id": str(h.entry.id), "score": h.score, "tier": h.entry.tier.value, "type": h.entry.memory_type.value,
         "confidence": h.entry.confidence.overall, "content": h.entry.content}
        for h in hits
    ]

    def human() -> None:
        if not hits:
            click.echo("Nothing found.")
        for h in hits:
            click.echo(f"{h.score:.3f}  {h.entry.id}  [{h.entry.tier.value}/{h.entry.memory_type.value}]  {h.entry.content}")

    _emit(data, as_json, human)


@main.command()
@click.argument("memory_id")
@click.argument("correction")
@click.option("--reason", help="Why it changed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def correct(ctx: click.Context, memory_id: str, correction: str, reason: str | None, as_json: bool) -> None:
    """Replace memory MEMORY_ID with CORRECTION (the old one stops coming back)."""
    from personal_memory.pms.schema import parse_memory_id

    with _service(ctx) as service:
        outcome = _run(lambda: service.correct(parse_memory_id(memory_id), correction, reason))
    data = {"id": str(outcome.new.id), "supersedes": str(outcome.old.id), "tier": outcome.new.tier.value}
    _emit(data, as_json, lambda: click.echo(f"corrected: {outcome.new.id} supersedes {outcome.old.id}"))


@main.command()
@click.argument("memory_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def forget(ctx: click.Context, memory_id: str, as_json: bool) -> None:
    """Delete memory MEMORY_ID from every tier."""
    from personal_memory.pms.schema import parse_memory_id

    with _service(ctx) as service:
        entry = _run(lambda: service.forget(parse_memory_id(memory_id)))
    _emit({"id": str(entry.id), "forgotten": True}, as_json, lambda: click.echo(f"forgotten: {entry.id}"))


@main.command()
@click.option("-q", "--query", help="Focus on what bears on this query.")
@click.option("--format", "fmt", type=click.Choice(["claude", "markdown", "json"]), default="claude", show_default=True)
@click.option("-n", "--limit", type=click.IntRange(1, 200), default=40, show_default=True)
@click.pass_context
def profile(ctx: click.Context, query: str | None, fmt: str, limit: int) -> None:
    """Print your personal context for a prompt (Claude XML, Markdown or JSON)."""
    from personal_memory.context.formats import render
    from personal_memory.context.profile import build_profile

    with _service(ctx) as service:
        built = _run(lambda: build_profile(service, query, limit))
    click.echo(render(built, fmt))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count memories per tier and status."""
    with _service(ctx) as service:
        counts = _run(service.stats)

    def human() -> None:
        for tier, by_status in counts.items():
            detail = ", ".join(f"{k} {v}" for k, v in by_status.items() if v)
            click.echo(f"{tier:<11} {by_status['active']:>7} active" + (f"  ({detail})" if detail else ""))

    _emit(counts, as_json, human)


if __name__ == "__main__":  # pragma: no cover
    main()
