"""The bench scripts keep working: each runs at a tiny size (CI's smoke run), well under a minute."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
RESULTS = BENCH / "results"


def _run(script: str, args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_scale_prints_latency_and_index_figures_at_a_tiny_size(server_env: dict[str, str]) -> None:
    out = _run(
        "scale.py",
        ["--sizes", "200", "--queries", "10", "--remembers", "5", "--ingest", "40", "--no-baseline",
         "--embedder-cache", server_env["PMEM_EMBEDDER_CACHE"], "--results", "scale-smoke"],
        server_env,
    )
    assert "ANN r@10" in out
    row = json.loads((RESULTS / "scale-smoke.json").read_text())["sizes"][0]
    assert row["size"] == 200 and row["ann_recall_at_10"] >= 0.95
    assert row["mcp_recall_ms"]["p50"] > 0 and row["ingest_per_s"] > 0


def test_startup_times_pmem_beside_a_trivial_server(server_env: dict[str, str]) -> None:
    out = _run("startup.py", ["--runs", "1", "--results", "startup-smoke"], server_env)
    assert "tools/list vs trivial server" in out
    data = json.loads((RESULTS / "startup-smoke.json").read_text())
    assert data["pmem"]["first_recall"] > data["pmem"]["tools_list"] > 0


@pytest.mark.skipif(find_spec("mem0") is None and shutil.which("npx") is None, reason="no peer installed")
def test_peers_runs_whichever_peers_are_installed(server_env: dict[str, str]) -> None:
    env = server_env | {"PATH": os.environ.get("PATH", "")}
    out = _run("peers.py", ["--entities", "50", "--questions", "5", "--sessions", "2", "--results", "peers-smoke"], env)
    assert "peer" in out
