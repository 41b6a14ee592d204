"""Data-dir commands: export, import, backup, and forgetting everything."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from personal_memory.cli.common import emit, open_service, run, settings_of

if TYPE_CHECKING:
    from personal_memory.pms.interaction_log import InteractionLog


def _log(ctx: click.Context) -> InteractionLog:
    from personal_memory.container import open_interaction_log

    return open_interaction_log(settings_of(ctx))


@click.command("export")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def export_(ctx: click.Context, archive: Path, as_json: bool) -> None:
    """Write everything you own (memories of every tier, interaction log, adapter list) to ARCHIVE (a zip)."""
    from personal_memory.pms.archive import export_archive

    log = _log(ctx)
    with open_service(ctx) as service:
        manifest = run(lambda: export_archive(service, log, archive))
    log.close()
    data = manifest.model_dump(mode="json") | {"archive": str(archive)}
    emit(
        data,
        as_json,
        lambda: click.echo(f"exported {manifest.memories} memories, {manifest.interactions} interactions to {archive}"),
    )


@click.command("import")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def import_(ctx: click.Context, archive: Path, as_json: bool) -> None:
    """Restore an ARCHIVE made by `pmem export`; memories already here (same id) are left as they are."""
    from dataclasses import asdict

    from personal_memory.pms.archive import import_archive

    log = _log(ctx)
    with open_service(ctx) as service:
        report = run(lambda: import_archive(service, log, archive))
    log.close()
    emit(
        asdict(report),
        as_json,
        lambda: click.echo(
            f"imported {report.memories_added} memories ({report.memories_skipped} already here), "
            f"{report.interactions_added} interactions" + (", re-embedded" if report.reembedded else "")
        ),
    )


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, folder: Path) -> None:
    """Copy the data dir's stores to FOLDER, consistently, even while a server is running."""
    from personal_memory.pms.backup import backup as take_backup

    with open_service(ctx) as service:
        try:
            written = take_backup(service, folder)
        except FileExistsError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up {len(written)} files to {folder}")


def forget_everything(ctx: click.Context) -> dict[str, int]:
    """``pmem forget --all``: every memory of every tier, the interaction log and the trainer's queue."""
    from personal_memory.plm.trainer.store import TrainerStore

    log = _log(ctx)
    with open_service(ctx) as service:
        memories = run(service.forget_all)
        trainer = TrainerStore(service.paths.trainer)
        learning_events = trainer.clear()
        trainer.close()
    interactions = log.clear()
    log.close()
    return {"memories": memories, "interactions": interactions, "learning_events": learning_events}


COMMANDS = [export_, import_, backup]
