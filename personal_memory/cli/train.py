"""``pmem train``: prepare data, train, evaluate, merge, roll back and export the personal language model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from personal_memory.cli.common import emit, open_service, run, settings_of
from personal_memory.cli.train_compress import compress, domains

if TYPE_CHECKING:
    from personal_memory.plm.pipeline import Pipeline


def _pipeline(ctx: click.Context, loads_models: bool = False) -> Pipeline:
    """The pipeline as the user configured it; ``loads_models`` hides transformers' own progress bars."""
    from personal_memory.container import build_pipeline

    if loads_models:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    return build_pipeline(settings_of(ctx))


@click.group()
def train() -> None:
    """Train your personal language model (PLM) on your memories: prepare, run, eval, merge...

    Needs a base model on this machine: PMEM_BASE_MODEL = a Hugging Face model folder, a .gguf file,
    or ollama:NAME for a model Ollama pulled. Nothing is downloaded.
    """


@train.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def prepare(ctx: click.Context, as_json: bool) -> None:
    """Turn your active memories into training and held-out question/answer datasets."""
    pipeline = _pipeline(ctx)
    with open_service(ctx) as service:
        manifest = run(lambda: pipeline.prepare(service))
    data = manifest.model_dump(mode="json") | {"folder": str(pipeline.paths.training_data)}

    def human() -> None:
        c = manifest.counts
        click.echo(
            f"{c['examples']} training examples and {c['eval']} held-out questions from {c['memories']} memories"
        )
        click.echo(f"dataset {manifest.sha256[:12]} in {pipeline.paths.training_data}")

    emit(data, as_json, human)


@train.command(name="run")
@click.option("--epochs", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 512), default=4, show_default=True)
@click.option("--grad-accum", type=click.IntRange(1, 512), default=4, show_default=True, help="Gradient accumulation.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-4, show_default=True)
@click.option(
    "--quantize",
    type=click.Choice(["auto", "4bit", "none"]),
    default="auto",
    show_default=True,
    help="auto: QLoRA (4-bit NF4) with CUDA, plain LoRA on CPU.",
)
@click.option("--teacher-log/--no-teacher-log", default=True, help="Distil from logged teacher answers.")
@click.pass_context
def run_training(
    ctx: click.Context, epochs: int, batch_size: int, grad_accum: int, lr: float, quantize: str, teacher_log: bool
) -> None:
    """Train a new LoRA adapter version on the prepared data and make it the active one.

    On several GPUs: accelerate launch --multi_gpu --num_processes N -m personal_memory train run
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from personal_memory.container import open_interaction_log
    from personal_memory.plm.lora import TrainConfig, process_state

    main_process = process_state().is_main_process  # under `accelerate launch`, the others stay quiet
    pipeline = _pipeline(ctx, loads_models=True)
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        gradient_accumulation=grad_accum,
        learning_rate=lr,
        quantize=quantize,  # type: ignore[arg-type] - click.Choice limits the values
        threads=pipeline.options.threads,
    )
    log = open_interaction_log(settings_of(ctx)) if teacher_log else None
    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"))
    try:
        with Progress(*columns, TimeRemainingColumn(), transient=True, disable=not main_process) as bar:
            task = bar.add_task("train", total=None, loss="-")

            def progress(step: int, total: int, loss: float) -> None:
                bar.update(task, completed=step, total=total, loss=f"{loss:.4f}")

            version, result = run(lambda: pipeline.run(config, progress, log))
    finally:
        if log is not None:
            log.close()
    if not main_process:
        return
    shares = " + ".join(str(n) for n in result.examples_per_process)
    processes = f", {result.processes} processes (data parallel: {shares} examples)" if result.processes > 1 else ""
    click.echo(f"mode: {result.mode}{processes}")
    click.echo(
        f"adapter {version.id}: {result.steps} steps in {result.seconds:.1f}s, final loss {result.final_loss:.4f}"
    )
    sources = ", ".join(f"{k} {v}" for k, v in version.soft_targets.items()) or "none logged"
    click.echo(f"teacher interactions (soft-target source): {sources}")
    click.echo(f"saved to {version.path}")


@train.command(name="eval")
@click.option("--max-new-tokens", type=click.IntRange(1, 1024), default=48, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def eval_command(ctx: click.Context, max_new_tokens: int, as_json: bool) -> None:
    """Exact match and token F1 on held-out paraphrased questions: base model vs your adapter."""
    result = run(lambda: _pipeline(ctx, loads_models=True).evaluate(max_new_tokens))

    def human() -> None:
        click.echo(f"{'':8}{'exact match':>12}{'token F1':>10}   ({result.base.n} held-out questions)")
        for name, scores in (("base", result.base), ("adapter", result.adapter)):
            click.echo(f"{name:8}{scores.exact_match:>12.3f}{scores.f1:>10.3f}")

    emit(result.model_dump(), as_json, human)


@train.command()
@click.pass_context
def merge(ctx: click.Context) -> None:
    """Fold the active adapter into the base weights: a standalone model in models/merged/."""
    click.echo(f"merged model saved to {run(_pipeline(ctx, loads_models=True).merge)}")


@train.command()
@click.pass_context
def rollback(ctx: click.Context) -> None:
    """Make the previous adapter version active again."""
    version = run(_pipeline(ctx).rollback)
    click.echo(f"active adapter is now {version.id}")


@train.command(name="export-ollama")
@click.option("--name", default="pmem-plm", show_default=True, help="The Ollama model name to create.")
@click.pass_context
def export_ollama(ctx: click.Context, name: str) -> None:
    """Write an Ollama Modelfile (base + LoRA adapter) and print the `ollama create` command."""
    export = run(lambda: _pipeline(ctx).export_ollama(name))
    click.echo(f"Modelfile: {export.modelfile}")
    click.echo(f"Run: {export.command}")


@train.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the configured base model, the prepared dataset and every adapter version with its metrics."""
    pipeline = _pipeline(ctx)
    from personal_memory.plm.data import MANIFEST_FILE

    registry = pipeline.registry.load()
    manifest = pipeline.manifest() if (pipeline.paths.training_data / MANIFEST_FILE).is_file() else None
    data = {
        "base_model": pipeline.options.base_model,
        "dataset": manifest.model_dump(mode="json") if manifest else None,
        "active": registry.active,
        "versions": [v.model_dump(mode="json", exclude={"dataset"}) for v in registry.versions],
    }

    def human() -> None:
        click.echo(f"base model: {pipeline.options.base_model or 'not configured (set PMEM_BASE_MODEL)'}")
        click.echo(f"dataset: {manifest.counts if manifest else 'not prepared (pmem train prepare)'}")
        for v in registry.versions:
            mark = "*" if v.id == registry.active else " "
            metrics = ", ".join(f"{k} {val:.3f}" for k, val in v.metrics.items())
            click.echo(f"{mark} {v.id}  {v.mode}  {metrics}" + ("  (rolled back)" if v.rolled_back else ""))

    emit(data, as_json, human)


train.add_command(domains)
train.add_command(compress)
COMMANDS = [train]
