"""``pmem ingest SOURCE PATH``: bring notes, commits, chats, posts and photos into the memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from personal_memory.cli.common import emit, open_service, run, settings_of

if TYPE_CHECKING:
    from personal_memory.ingest.pipeline import IngestSummary, Progress


@contextmanager
def _progress_bar(enabled: bool, storing: bool) -> Iterator[Progress]:
    """A rich progress display on stderr: datapoints read, then memories stored out of those found."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )
    reading = bar.add_task("datapoints read", total=None)
    stored = bar.add_task("memories stored", total=0, visible=storing)

    def update(summary: IngestSummary) -> None:
        bar.update(reading, completed=summary.datapoints)
        bar.update(stored, completed=summary.stored, total=max(summary.candidates, summary.stored))

    with bar:
        yield update


def _summary_lines(summary: IngestSummary, dry_run: bool) -> list[str]:
    verb = "would be remembered" if dry_run else "remembered"
    lines = [
        f"files read: {summary.files}",
        f"datapoints read: {summary.datapoints} ({summary.already_ingested} already ingested, "
        f"{summary.before_since} before --since)",
        f"memories found: {summary.candidates}, skipped: {summary.skipped}",
    ]
    if dry_run:
        lines += [f"  {verb}: {text}" for text in summary.sample]
    else:
        lines.append(f"memories created: {summary.created}, corroborated: {summary.corroborated}")
    lines.append(f"errors: {len(summary.errors)}")
    lines += [f"  {error}" for error in summary.errors]
    return lines


@click.command()
@click.argument("source", metavar="SOURCE")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be remembered; store nothing.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Skip what is older (UTC).")
@click.option("--reliability", type=click.FloatRange(0.0, 1.0), help="Trust in this source (default per source).")
@click.option(
    "--ollama-model", envvar="PMEM_OLLAMA_MODEL", help="Extract with this local Ollama model (off by default)."
)
@click.option("--ollama-url", envvar="PMEM_OLLAMA_URL", default="http://127.0.0.1:11434", show_default=True)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def ingest(
    ctx: click.Context,
    source: str,
    path: Path,
    dry_run: bool,
    since: datetime | None,
    reliability: float | None,
    ollama_model: str | None,
    ollama_url: str,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Remember what SOURCE at PATH says about you. Re-running on the same export adds nothing.

    SOURCE is one of: notes (a Markdown/Obsidian folder), git (a repository: your commits), chatgpt and
    claude (their conversations.json export), twitter (the archive or its data/tweets.js), mastodon
    (outbox.json), photos (a folder of JPEG/PNG: EXIF date, camera, place), or an installed plugin.
    A file that is corrupt, truncated or in an unknown format is reported and skipped as a whole.
    """
    from dataclasses import asdict

    from personal_memory.ingest.datapoint import reliability_for
    from personal_memory.ingest.extraction import Extractor, RuleExtractor
    from personal_memory.ingest.ledger import Ledger
    from personal_memory.ingest.ollama import OllamaExtractor
    from personal_memory.ingest.pipeline import Ingestion, IngestOptions
    from personal_memory.ingest.registry import load_ingesters

    ingesters = load_ingesters()
    if source not in ingesters:
        raise click.BadParameter(f"{source!r}; choose one of: {', '.join(ingesters)}", param_hint="SOURCE")
    options = IngestOptions(
        reliability=reliability if reliability is not None else reliability_for(source),
        since=since.replace(tzinfo=UTC) if since else None,
    )
    extractor: Extractor = OllamaExtractor(ollama_model, ollama_url) if ollama_model else RuleExtractor()
    ledger_path = settings_of(ctx).paths.home / "data" / "ingest.sqlite"

    def execute() -> IngestSummary:
        with _progress_bar(not no_progress and not as_json, storing=not dry_run) as progress:
            if dry_run:
                ledger = Ledger(ledger_path) if ledger_path.exists() else None
                try:
                    return Ingestion(options, ledger, None, extractor, progress).run(ingesters[source], path)
                finally:
                    if ledger is not None:
                        ledger.close()
            ledger = Ledger(ledger_path)
            try:
                with open_service(ctx) as service:
                    return Ingestion(options, ledger, service, extractor, progress).run(ingesters[source], path)
            finally:
                ledger.close()

    summary = run(execute)
    emit(asdict(summary), as_json, lambda: click.echo("\n".join(_summary_lines(summary, dry_run))))
    if summary.errors and not summary.files:
        ctx.exit(1)


COMMANDS = [ingest]
