"""``pmem optimize``: build or refresh the long-term tier's search indexes now."""

from __future__ import annotations

from dataclasses import asdict

import click

from personal_memory.cli.common import emit, open_service


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def optimize(ctx: click.Context, as_json: bool) -> None:
    """Build the ANN index once the long-term tier is large, fold new memories into the indexes, compact files.

    The server does this in the background as memories arrive; run it after a large import to have fast
    recall at once.
    """
    from personal_memory.pms.schema import Tier
    from personal_memory.pms.stores.lance_tier import LanceTierStore

    with open_service(ctx) as service:
        store = service.store(Tier.LONG_TERM)
        if not isinstance(store, LanceTierStore):
            raise click.ClickException("The long-term tier is not a LanceDB store; nothing to optimize.")
        report = store.optimize()
    emit(
        asdict(report),
        as_json,
        lambda: click.echo(
            f"long-term: {report.rows} memories, ANN index {'yes' if report.ann_index else 'not yet (small tier)'}, "
            f"{report.unindexed_rows} not in it, {report.seconds:.1f} s"
        ),
    )


COMMANDS = [optimize]
