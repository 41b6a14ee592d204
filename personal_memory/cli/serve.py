"""``pmem serve`` and ``pmem setup``."""

from __future__ import annotations

import click

from personal_memory.cli.common import run, settings_of


@click.command()
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
    from personal_memory.server.transports import TransportConfigError
    from personal_memory.server.transports import serve as run_server

    settings = settings_of(ctx, host=host, port=port, token=token)
    try:
        run_server(settings, transport)  # type: ignore[arg-type]
    except TransportConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@click.pass_context
def setup(ctx: click.Context) -> None:
    """Create the data dir and prepare the embedding model (a one-time ONNX export)."""
    settings = settings_of(ctx)
    from personal_memory.container import build_embedder

    settings.paths.ensure()
    click.echo(f"Data dir: {settings.paths.home}")
    run(build_embedder(settings).warm_up)
    click.echo("Embedding model ready.")


COMMANDS = [serve, setup]
