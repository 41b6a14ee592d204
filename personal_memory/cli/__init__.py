"""``pmem``: run the MCP server, and use the memory from scripts and the shell.

Each command group lives in its own module, imported only when one of its commands runs (or ``--help``
lists them): ``pmem serve`` is spawned by MCP clients at every launch and should not import the trainer.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import click

__all__ = ["main"]


# command name -> the module under personal_memory.cli that defines it (in its COMMANDS list)
COMMAND_MODULES = {
    "serve": "serve", "setup": "serve",
    "remember": "memory", "recall": "memory", "correct": "memory", "forget": "memory", "profile": "memory",
    "stats": "memory",
    "context": "context", "ask": "context",
    "train": "train", "trainer": "trainer",
    "promote": "engine", "why": "engine",
    "ingest": "ingest",
    "export": "admin", "import": "admin", "backup": "admin",
    "optimize": "optimize",
}  # fmt: skip


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"personal_memory.cli.{module_name}")
        return next(command for command in module.COMMANDS if command.name == cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
