"""Start-up latency as Claude Desktop sees it: spawn -> initialize -> tools/list -> first recall -> first remember.

In the same run, a minimal MCP server made with the same SDK (one trivial tool) gives the floor.

    .venv/bin/python bench/startup.py [--runs 5] [--home DIR]

The data dir is set up first (``pmem setup``: the one-time ONNX export, as after installing), unless
PMEM_EMBEDDER_CACHE points at an export already. Prints a table and writes bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402 - bench scripts run from a checkout

TRIVIAL_SERVER = """
from mcp.server.mcpserver import MCPServer
server = MCPServer("trivial")

@server.tool()
def echo(text: str) -> str:
    return text

server.run("stdio")
"""


async def _time_session(params: StdioServerParameters, full: bool) -> dict[str, float]:
    marks: dict[str, float] = {}
    start = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        marks["initialize"] = time.perf_counter() - start
        await session.list_tools()
        marks["tools_list"] = time.perf_counter() - start
        if full:
            result = await session.call_tool("recall", {"query": "what do I like to eat?"})
            assert not result.is_error, result.content
            marks["first_recall"] = time.perf_counter() - start
            result = await session.call_tool("remember", {"content": f"I benchmarked start-up at {time.time()}"})
            assert not result.is_error, result.content
            marks["first_remember"] = time.perf_counter() - start
    return marks


def _summarise(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


async def main(runs: int, home: Path) -> dict[str, Any]:
    env = dict(os.environ) | {"PMEM_HOME": str(home)}
    command = str(Path(sys.executable).parent / "pmem")
    subprocess.run([command, "setup"], env=env, check=True, capture_output=True, timeout=600)
    pmem = StdioServerParameters(command=command, args=["serve"], env=env)
    trivial = StdioServerParameters(command=sys.executable, args=["-c", TRIVIAL_SERVER], env=env)
    ours = [await _time_session(pmem, full=True) for _ in range(runs)]
    floor = [await _time_session(trivial, full=False) for _ in range(runs)]
    return {"runs": runs, "pmem": _summarise(ours), "trivial_server": _summarise(floor)}


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--home", type=Path, help="Data dir to start on (default: a fresh temp dir)")
    parser.add_argument("--results", default="startup", help="Name of the bench/results/<name>.json file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        results = anyio.run(main, args.runs, home)
    ours, floor = results["pmem"], results["trivial_server"]
    print(f"{'seconds after spawn (median of ' + str(args.runs) + ')':<40}{'pmem':>10}{'trivial':>10}")
    for key in ("initialize", "tools_list", "first_recall", "first_remember"):
        print(f"{key:<40}{ours[key]:>10.3f}{floor.get(key, float('nan')):>10.3f}")
    ratio = ours["tools_list"] / floor["tools_list"]
    print(f"tools/list vs trivial server: {ratio:.2f}x (target <= 1.3x); first recall {ours['first_recall']:.2f}s "
          "(target <= 1.5s)")
    write_results(args.results, results)


if __name__ == "__main__":
    cli()
