"""``pmem trainer``: the sidecar that keeps the personal model learning from every interaction."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import asdict
from typing import Any

import click

from personal_memory.cli.common import emit, open_service, run, settings_of

logger = logging.getLogger(__name__)


@click.group()
def trainer() -> None:
    """The sidecar trainer: reads the tool-call log, queues what can be learned, updates the PLM.

    An update runs at 10+ queued events, 24+ hours after the last one with something queued, or when
    asked (`pmem trainer update-now`); it is kept only if it is not worse on held-out questions.
    """


def _held_elsewhere() -> click.ClickException:
    return click.ClickException("Another trainer is running on this data dir; stop it first (only one may train).")


@trainer.command("run")
@click.option("--once", is_flag=True, help="One pass (consume the log, update if due), then exit.")
@click.option("--poll", type=float, default=None, help="Seconds between passes (default PMEM_TRAINER_POLL_SECONDS).")
@click.pass_context
def run_trainer(ctx: click.Context, once: bool, poll: float | None) -> None:
    """Run the sidecar in the foreground (logs on stderr; Ctrl-C or SIGTERM stops it cleanly)."""
    from personal_memory.container import build_sidecar
    from personal_memory.pms.locking import try_exclusive

    settings = settings_of(ctx)
    with open_service(ctx) as service, try_exclusive(settings.paths.trainer_lock) as held:
        if not held:
            raise _held_elsewhere()
        sidecar = build_sidecar(settings, service)
        if once:
            record = run(sidecar.step)
            click.echo(f"update {record.id}: {record.status} ({record.reason})" if record else "no update due")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        click.echo(f"trainer running on {settings.paths.home} (Ctrl-C to stop)", err=True)
        run(lambda: sidecar.run_forever(poll or settings.trainer_poll_seconds, stop))


@trainer.command("update-now")
@click.pass_context
def update_now(ctx: click.Context) -> None:
    """Update the PLM now with whatever is queued (or ask the running sidecar to)."""
    from personal_memory.container import build_sidecar
    from personal_memory.pms.locking import try_exclusive

    settings = settings_of(ctx)
    with open_service(ctx) as service, try_exclusive(settings.paths.trainer_lock) as held:
        sidecar = build_sidecar(settings, service)
        sidecar.store.request_update(sidecar.clock())
        if not held:
            click.echo("The running trainer will update on its next pass.")
            return
        record = run(sidecar.step)
        click.echo(f"update {record.id}: {record.status} ({record.reason})" if record else "nothing to do")


@trainer.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Queued events, domains, recent updates and the adapter versions with their metrics."""
    from personal_memory.container import build_pipeline
    from personal_memory.plm.trainer.store import TrainerStore

    settings = settings_of(ctx)
    settings.paths.ensure()
    store = TrainerStore(settings.paths.trainer)
    registry = build_pipeline(settings).registry.load()
    data: dict[str, Any] = {
        "queued_events": store.pending_count(),
        "log_cursor": store.cursor(),
        "last_update": store.last_finished_update(),
        "domains": store.domain_counts(),
        "updates": [asdict(u) for u in store.updates(limit=10)],
        "active_adapter": registry.active,
        "adapters": [
            {"id": v.id, "created_at": v.created_at, "metrics": v.metrics, "rolled_back": v.rolled_back}
            for v in registry.versions
        ],
    }
    store.close()

    def human() -> None:
        click.echo(f"queued events: {data['queued_events']}  (log read up to #{data['log_cursor']})")
        click.echo(f"last update:   {data['last_update'] or 'never'}")
        for u in data["updates"]:
            click.echo(f"  {u['id']}  {u['status']:<12} {u['events']:>4} events  {u['reason'] or ''}")
        click.echo(f"active adapter: {data['active_adapter'] or 'none'}")
        for v in data["adapters"]:
            click.echo(f"  {v['id']}  {v['metrics']}" + ("  (rolled back)" if v["rolled_back"] else ""))

    emit(data, as_json, human)


COMMANDS = [trainer]
