"""Engine commands: ``pmem promote`` runs the promotion rules, ``pmem why`` tells a memory's life."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from personal_memory.cli.common import emit, open_service, run, settings_of

if TYPE_CHECKING:
    from personal_memory.pms.promotion import Decision
    from personal_memory.pms.schema import MemoryEntry, MemoryEvent


def _decision_line(d: Decision) -> str:
    target = d.to_tier.value if d.to_tier else "expired"
    return f"{d.memory_id}  {d.from_tier.value} -> {target}  [{d.rule.value}] {d.reason}\n    {d.content}"


@click.command()
@click.option("--dry-run", is_flag=True, help="List what would move and why; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def promote(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Apply the promotion rules now: move memories up a tier, expire stale short-term ones."""
    from personal_memory.pms.promotion import PromotionEngine

    settings = settings_of(ctx)
    with open_service(ctx) as service:
        engine = PromotionEngine(service, settings.promotion_policy())
        decisions = run(engine.plan if dry_run else engine.run)
    data = [
        {"id": str(d.memory_id), "from": d.from_tier.value, "to": d.to_tier.value if d.to_tier else None,
         "rule": d.rule.value, "reason": d.reason, "content": d.content}
        for d in decisions
    ]

    def human() -> None:
        verb = "would move" if dry_run else "moved"
        click.echo(f"{len(decisions)} memories {verb}." if decisions else "Nothing to move.")
        for d in decisions:
            click.echo(_decision_line(d))

    emit(data, as_json, human)


def _event_line(event: MemoryEvent) -> str:
    parts = [f"{event.at:%Y-%m-%d %H:%M}", event.kind.value]
    if event.from_tier or event.to_tier:
        parts.append(f"{event.from_tier.value if event.from_tier else '-'} -> "
                     f"{event.to_tier.value if event.to_tier else '-'}")
    if event.rule:
        parts.append(f"[{event.rule}]")
    if event.other:
        parts.append(f"(memory {event.other})")
    if event.detail:
        parts.append(event.detail)
    return "  ".join(parts)


def _summary(entry: MemoryEntry) -> list[str]:
    c = entry.confidence
    return [
        f"{entry.id}  {entry.content}",
        f"now: {entry.tier.value}, {entry.status.value}; {entry.memory_type.value}/{entry.truth_category.value}; "
        f"domains {', '.join(entry.domains) or '-'}; entities {', '.join(entry.entities) or '-'}",
        f"confidence {c.overall:.2f} (source {c.source_reliability:.2f}, recency {c.recency:.2f}, "
        f"corroborated {c.corroboration_count}, contradicted {c.contradiction_count}); "
        f"accessed {entry.access_count} times; validated: {'yes' if entry.validated else 'no'}",
    ]


@click.command()
@click.argument("memory_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def why(ctx: click.Context, memory_id: str, as_json: bool) -> None:
    """Explain memory MEMORY_ID: where it is, why, and everything that happened to it."""
    from personal_memory.pms.schema import parse_memory_id

    with open_service(ctx) as service:
        entry = run(lambda: service.find(parse_memory_id(memory_id)))

    def human() -> None:
        for line in _summary(entry):
            click.echo(line)
        click.echo("history:")
        for event in entry.history:
            click.echo("  " + _event_line(event))

    emit(entry.without_embedding().model_dump(mode="json"), as_json, human)


COMMANDS = [promote, why]
