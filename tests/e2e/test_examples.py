"""Every example in examples/ is run, so none can rot."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from anyio import fail_after
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.e2e.mcp_helpers import pmem_command

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_python_client_example_remembers_recalls_and_prints_a_profile(server_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "python_client.py")],
        env=server_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "recall -> I am allergic to peanuts" in done.stdout
    assert "<user_profile>" in done.stdout


async def _list_tools(command: str, args: list[str], env: dict[str, str]) -> set[str]:
    params = StdioServerParameters(command=command, args=args, env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return {t.name for t in (await session.list_tools()).tools}


@pytest.mark.anyio
async def test_claude_desktop_config_launches_the_server(server_env: dict[str, str]) -> None:
    config = json.loads((EXAMPLES / "claude_desktop_config.json").read_text())["mcpServers"]["personal-memory"]
    assert config["command"].endswith("/.venv/bin/pmem") and config["args"] == ["serve"]
    env = server_env | {k: v for k, v in config["env"].items() if not v.startswith("/ABSOLUTE")}
    with fail_after(60):
        assert "remember" in await _list_tools(pmem_command(), config["args"], env)


@pytest.mark.anyio
async def test_claude_code_add_line_launches_the_server(server_env: dict[str, str]) -> None:
    line = next(
        line for line in (EXAMPLES / "claude_code_add.sh").read_text().splitlines() if line.startswith("claude mcp add")
    )
    words = shlex.split(line)
    command, *args = words[words.index("--") + 1 :]
    assert command == "$(pwd)/.venv/bin/pmem" and args == ["serve"]
    with fail_after(60):
        assert "recall" in await _list_tools(pmem_command(), args, server_env)


def _run_trainer_once(command: str, args: list[str], env: dict[str, str]) -> None:
    assert command.endswith("/.venv/bin/pmem") and args == ["trainer", "run"]
    done = subprocess.run(
        [pmem_command(), *args, "--once"], env=env | {"PMEM_EMBEDDER": "hash"}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no update due" in done.stdout


def test_systemd_unit_runs_the_sidecar_trainer(server_env: dict[str, str]) -> None:
    unit = (EXAMPLES / "pmem-trainer.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    command, *args = shlex.split(exec_start.removeprefix("ExecStart="))
    _run_trainer_once(command, args, server_env)


def test_launchd_plist_runs_the_sidecar_trainer(server_env: dict[str, str]) -> None:
    import plistlib

    agent = plistlib.loads((EXAMPLES / "com.personal-memory.trainer.plist").read_bytes())
    command, *args = agent["ProgramArguments"]
    assert agent["KeepAlive"] and "PMEM_HOME" in agent["EnvironmentVariables"]
    _run_trainer_once(command, args, server_env)
