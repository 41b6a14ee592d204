"""Memory commands: remember, recall, correct, forget, profile, stats."""

from __future__ import annotations

import click

from personal_memory.cli.common import MEMORY_TYPES, TIERS, TRUTH_CATEGORIES, emit, open_service, run, settings_of


@click.command()
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
    with open_service(ctx) as service:
        outcome = run(lambda: service.remember(request))
    entry = outcome.entry
    status = "created" if outcome.created else "corroborated"
    data = {"id": str(entry.id), "tier": entry.tier.value, "status": status, "confidence": entry.confidence.overall}
    emit(data, as_json, lambda: click.echo(f"{status} {entry.id} ({entry.tier.value})"))


@click.command()
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
    with open_service(ctx) as service:
        hits = run(lambda: service.recall(request))
    data = [
        {
            "id": str(h.entry.id),
            "score": h.score,
            "tier": h.entry.tier.value,
            "type": h.entry.memory_type.value,
            "confidence": h.entry.confidence.overall,
            "content": h.entry.content,
        }
        for h in hits
    ]

    def human() -> None:
        if not hits:
            click.echo("Nothing found.")
        for h in hits:
            click.echo(
                f"{h.score:.3f}  {h.entry.id}  [{h.entry.tier.value}/{h.entry.memory_type.value}]  {h.entry.content}"
            )

    emit(data, as_json, human)


@click.command()
@click.argument("memory_id")
@click.argument("correction")
@click.option("--reason", help="Why it changed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def correct(ctx: click.Context, memory_id: str, correction: str, reason: str | None, as_json: bool) -> None:
    """Replace memory MEMORY_ID with CORRECTION (the old one stops coming back)."""
    from personal_memory.pms.schema import parse_memory_id

    with open_service(ctx) as service:
        outcome = run(lambda: service.correct(parse_memory_id(memory_id), correction, reason))
    data = {"id": str(outcome.new.id), "supersedes": str(outcome.old.id), "tier": outcome.new.tier.value}
    emit(data, as_json, lambda: click.echo(f"corrected: {outcome.new.id} supersedes {outcome.old.id}"))


@click.command()
@click.argument("memory_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Forget every memory and the interaction log.")
@click.option("--yes", is_flag=True, help="With --all: do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def forget(ctx: click.Context, memory_id: str | None, everything: bool, yes: bool, as_json: bool) -> None:
    """Delete memory MEMORY_ID from every tier (or, with --all, everything you own)."""
    from personal_memory.pms.schema import parse_memory_id

    if everything == (memory_id is not None):
        raise click.UsageError("Give either a MEMORY_ID or --all.")
    if everything:
        from personal_memory.cli.admin import forget_everything

        if not yes:
            click.confirm("Forget every memory and the interaction log, for good?", abort=True)
        counts = forget_everything(ctx)
        emit(
            counts,
            as_json,
            lambda: click.echo(f"forgotten: {counts['memories']} memories, {counts['interactions']} interactions"),
        )
        return
    assert memory_id is not None
    from personal_memory.container import open_interaction_log
    from personal_memory.plm.trainer.store import forget_training_data

    with open_service(ctx) as service:
        entry = run(lambda: service.forget(parse_memory_id(memory_id)))
    settings = settings_of(ctx)
    log = open_interaction_log(settings)
    try:  # and from the interaction log and the trainer's queue, so it never feeds training again
        forget_training_data(settings.paths.trainer, log, str(entry.id))
    finally:
        log.close()
    emit({"id": str(entry.id), "forgotten": True}, as_json, lambda: click.echo(f"forgotten: {entry.id}"))


@click.command()
@click.option("-q", "--query", help="Focus on what bears on this query.")
@click.option("--format", "fmt", type=click.Choice(["claude", "markdown", "json"]), default="claude", show_default=True)
@click.option("-n", "--limit", type=click.IntRange(1, 200), default=40, show_default=True)
@click.pass_context
def profile(ctx: click.Context, query: str | None, fmt: str, limit: int) -> None:
    """Print your personal context for a prompt (Claude XML, Markdown or JSON)."""
    from personal_memory.context.formats import render
    from personal_memory.context.profile import build_profile

    with open_service(ctx) as service:
        built = run(lambda: build_profile(service, query, limit))
    click.echo(render(built, fmt))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count memories per tier and status."""
    with open_service(ctx) as service:
        counts = run(service.stats)

    def human() -> None:
        for tier, by_status in counts.items():
            detail = ", ".join(f"{k} {v}" for k, v in by_status.items() if v)
            click.echo(f"{tier:<11} {by_status['active']:>7} active" + (f"  ({detail})" if detail else ""))

    emit(counts, as_json, human)


COMMANDS = [remember, recall, correct, forget, profile, stats]
