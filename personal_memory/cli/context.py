"""``pmem context``: the personal context for a query, for any LLM. ``pmem ask``: ask a local Ollama model with it."""

from __future__ import annotations

import click

from personal_memory.cli.common import open_service, run, settings_of
from personal_memory.context import DEFAULT_MAX_TOKENS, FORMATS, MIN_MAX_TOKENS

max_tokens_option = click.option(
    "--max-tokens", type=click.IntRange(MIN_MAX_TOKENS, 32_000), default=DEFAULT_MAX_TOKENS, show_default=True,
    help="Token budget for the context.",
)


@click.command("context")
@click.argument("query", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="claude", show_default=True)
@max_tokens_option
@click.option("-n", "--limit", type=click.IntRange(1, 200), help="Most memories (default 10 with a query, else 40).")
@click.option("--model", help="Ollama format: the base model (default llama3.2:3b).")
@click.option("--personal-model", help="Ollama format: your personal model registered in Ollama, used instead.")
@click.pass_context
def context(
    ctx: click.Context,
    query: str | None,
    fmt: str,
    max_tokens: int,
    limit: int | None,
    model: str | None,
    personal_model: str | None,
) -> None:
    """Print what your memory knows that bears on QUERY, for a target LLM (the whole profile without QUERY)."""
    from personal_memory.context.exporters.plain import DEFAULT_MODEL, Target
    from personal_memory.context.profile import personal_context

    target = Target(model=model or DEFAULT_MODEL, personal_model=personal_model)
    with open_service(ctx) as service:
        out = run(lambda: personal_context(service, query, fmt, max_tokens, limit, target))
    click.echo(out.text)


@click.command()
@click.argument("query")
@click.option("--model", help="Ollama model (default: your personal model when registered, else llama3.2:3b).")
@click.option("--host", envvar="OLLAMA_HOST", help="Ollama server URL (or OLLAMA_HOST; default the local one).")
@max_tokens_option
@click.option("--timeout", type=click.FloatRange(1, 3600), default=300.0, show_default=True, help="Seconds to wait.")
@click.pass_context
def ask(ctx: click.Context, query: str, model: str | None, host: str | None, max_tokens: int, timeout: float) -> None:
    """Ask a local Ollama model QUERY with your personal context; the exchange is logged for training."""
    from personal_memory.container import open_interaction_log
    from personal_memory.context.ask import OllamaError
    from personal_memory.context.ask import ask as ask_ollama

    log = open_interaction_log(settings_of(ctx))
    try:
        with open_service(ctx) as service:
            answer = run(lambda: ask_ollama(service, log, query, model, host, max_tokens, timeout))
    except OllamaError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        log.close()
    click.echo(answer.text)


COMMANDS = [context, ask]
