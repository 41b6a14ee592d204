"""``pmem``: run the MCP server, and use the memory from scripts and the shell.

Each command group lives in its own module and is attached to ``main`` below.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

__all__ = ["main"]


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


def _attach() -> None:
    from personal_memory.cli import admin, context, engine, ingest, memory, optimize, serve, train, trainer

    for module in (serve, memory, context, train, trainer, engine, ingest, admin, optimize):
        for command in module.COMMANDS:
            main.add_command(command)


_attach()
