"""``pmem train domains`` and ``pmem train compress``: user-specific pruning and compression of the PLM."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from personal_memory.cli.common import emit, open_service, run, settings_of
from personal_memory.plm.compress.recover import RECOVERY

if TYPE_CHECKING:
    from personal_memory.config import Settings

_KEEP = click.option(
    "--keep-above", type=click.FloatRange(0, 1), default=0.05, show_default=True, help="Keep domains above this share."
)
_PRUNE = click.option(
    "--prune-below",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="Prune domains below this share.",
)


def _check_thresholds(keep_above: float, prune_below: float) -> None:
    if prune_below > keep_above:
        raise click.BadParameter(f"--prune-below ({prune_below}) must not exceed --keep-above ({keep_above}).")


def _domain_counts(settings: Settings) -> dict[str, int]:
    """Activations per domain the trainer counted from the interaction log (none before it first ran)."""
    from personal_memory.plm.trainer.store import TrainerStore

    if not settings.paths.trainer.is_file():
        return {}
    store = TrainerStore(settings.paths.trainer)
    try:
        return store.domain_counts()
    finally:
        store.close()


@click.command()
@_KEEP
@_PRUNE
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def domains(ctx: click.Context, keep_above: float, prune_below: float, as_json: bool) -> None:
    """How often each knowledge domain was activated, and which pruning keeps or removes."""
    from personal_memory.plm.compress.domains import Decision, plan_domains

    _check_thresholds(keep_above, prune_below)
    plan = run(lambda: plan_domains(_domain_counts(settings_of(ctx)), keep_above, prune_below))

    def human() -> None:
        if not plan.total:
            click.echo("No domain activations yet: the trainer counts them from recall/profile/ask/context calls.")
            return
        click.echo(f"{'domain':20}{'count':>8}{'share':>9}  decision   ({plan.total} activations)")
        for d in plan.domains:
            if d.count:
                click.echo(f"{d.domain:20}{d.count:>8}{d.share:>9.1%}  {d.decision.value}")
        never = [d.domain for d in plan.domains if not d.count]
        if never:
            click.echo(f"never activated: {', '.join(never)}")
        click.echo(f"keep (> {keep_above:.0%}): {', '.join(plan.named(Decision.KEEP)) or '-'}")
        click.echo(f"prune candidates (< {prune_below:.0%}): {len(plan.named(Decision.PRUNE))} domains")

    emit(plan.model_dump(mode="json"), as_json, human)


@click.command()
@click.option("--ffn-share", type=click.FloatRange(0, 1, max_open=True), default=0.5, show_default=True,
              help="Share of FFN neurons removed in every layer.")  # fmt: skip
@click.option("--head-share", type=click.FloatRange(0, 1, max_open=True), default=0.25, show_default=True,
              help="Share of attention heads removed (rounded per key/value group).")  # fmt: skip
@_KEEP
@_PRUNE
@click.option("--contrast", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="How much importance on pruned domains' text counts against a unit.")  # fmt: skip
@click.option("--recover-epochs", type=click.IntRange(1, 1000), default=RECOVERY.epochs, show_default=True,
              help="Distillation epochs after pruning (full fine-tuning on your examples).")  # fmt: skip
@click.option("--recover-lr", type=click.FloatRange(min=0, min_open=True), default=RECOVERY.learning_rate,
              show_default=True)  # fmt: skip
@click.option("--quantize", type=click.Choice(["auto", "int4", "int8", "4bit", "none"]), default="auto",
              show_default=True, help="auto: 4-bit NF4 (bitsandbytes) with CUDA; on CPU the smallest of int4, "
              "int4 + int8 embeddings, int8 weights that keeps --min-quality-kept.")  # fmt: skip
@click.option("--min-quality-kept", type=click.FloatRange(0, 1), default=0.95, show_default=True,
              help="Share of the recovered model's held-out F1 the automatic CPU quantisation must keep.")  # fmt: skip
@click.option("--max-new-tokens", type=click.IntRange(1, 1024), default=48, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def compress(
    ctx: click.Context,
    ffn_share: float,
    head_share: float,
    keep_above: float,
    prune_below: float,
    contrast: float,
    recover_epochs: int,
    recover_lr: float,
    quantize: str,
    min_quality_kept: float,
    max_new_tokens: int,
    as_json: bool,
) -> None:
    """Prune your PLM to your domains, recover it by distillation, quantise it; report each step.

    Compresses the base model with the active adapter merged in (or the base model alone). Prints
    parameters, size on disk, tokens/s, held-out quality and perplexity per step, versus the original
    and SEED.md's target (~95 % quality at ~1/8 of the fp16 size). Needs `pmem train prepare` first.
    """
    from personal_memory.cli.train import _pipeline
    from personal_memory.plm.compress import CompressOptions, run_compression
    from personal_memory.plm.compress.prune import PruneConfig

    _check_thresholds(keep_above, prune_below)
    pipeline = _pipeline(ctx, loads_models=True)
    threads = pipeline.options.threads
    options = CompressOptions(
        keep_above=keep_above,
        prune_below=prune_below,
        prune=PruneConfig(ffn_share=ffn_share, head_share=head_share),
        contrast=contrast,
        recovery=RECOVERY.model_copy(
            update={"epochs": recover_epochs, "learning_rate": recover_lr, "threads": threads}
        ),
        quantize=quantize,  # type: ignore[arg-type] - click.Choice limits the values
        min_quality_kept=min_quality_kept,
        max_new_tokens=max_new_tokens,
        threads=threads,
    )
    with open_service(ctx) as service:
        memories = list(service.iter_active())
    counts = _domain_counts(settings_of(ctx))
    report = run(lambda: run_compression(pipeline, memories, counts, options, lambda line: click.echo(line, err=True)))

    def human() -> None:
        click.echo(f"original: {report.source}; quantisation: {report.quantisation}")
        for line in report.lines():
            click.echo(line)
        click.echo(f"saved to {report.folder}")

    emit(report.model_dump(mode="json"), as_json, human)
