"""The ``pmem`` CLI over a real data dir (fast fake embedder)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from personal_memory.cli import main


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args))
        return result.exit_code, result.output

    return invoke


def test_remember_recall_correct_forget_and_stats(run) -> None:  # type: ignore[no-untyped-def]
    code, out = run("remember", "I live in Lyon", "--type", "fact", "--domain", "home", "--json")
    assert code == 0
    memory_id = json.loads(out)["id"]
    code, out = run("recall", "Lyon", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == memory_id
    code, out = run("correct", memory_id, "I live in Berlin", "--json")
    new_id = json.loads(out)["id"]
    code, out = run("recall", "live Lyon Berlin", "--json")
    assert [m["id"] for m in json.loads(out)] == [new_id]
    code, out = run("profile", "--format", "markdown")
    assert "Berlin" in out and "Lyon" not in out
    assert run("forget", new_id)[0] == 0
    code, out = run("stats", "--json")
    assert json.loads(out)["short_term"]["active"] == 0


def test_errors_are_clean_messages_not_tracebacks(run) -> None:  # type: ignore[no-untyped-def]
    code, out = run("forget", "123")
    assert code == 1 and "not a memory id" in out and "Traceback" not in out
    code, out = run("remember", "   ")
    assert code == 1 and "empty" in out
    code, out = run("remember", "x", "--type", "gossip")
    assert code == 2 and "gossip" in out


def test_help_explains_every_command(run) -> None:  # type: ignore[no-untyped-def]
    code, out = run("--help")
    for command in ("serve", "remember", "recall", "correct", "forget", "profile", "stats", "setup"):
        assert command in out
    code, out = run("serve", "--help")
    assert "stdio" in out and "--token" in out


def test_every_command_is_listed_once() -> None:
    import importlib

    from personal_memory.cli import COMMAND_MODULES

    for module_name in set(COMMAND_MODULES.values()):
        module = importlib.import_module(f"personal_memory.cli.{module_name}")
        assert {c.name for c in module.COMMANDS} == {n for n, m in COMMAND_MODULES.items() if m == module_name}


def test_serve_builds_the_server_without_the_storage_engine_or_the_trainer() -> None:
    """MCP clients spawn `pmem serve` at every launch: tools/list must not wait for numpy, the stores or torch."""
    import subprocess
    import sys

    script = (
        "import sys, click\n"
        "from personal_memory.cli import main\n"
        "main.get_command(click.Context(main), 'serve')\n"
        "from personal_memory.config import load_settings\n"
        "from personal_memory.server.app import build_server\n"
        "build_server(load_settings(), warm_up=False)\n"
        "heavy = {'numpy', 'torch', 'lance', 'lancedb'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy\n"
        "             or m == 'personal_memory.pms.service' or m.startswith('personal_memory.plm')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
