"""Drive Personal Memory from Python with the official MCP client: remember, recall, profile.

Run:  .venv/bin/python examples/python_client.py
It spawns `pmem serve` over stdio exactly as Claude Desktop does (data in PMEM_HOME, default ~/.pmem).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

PMEM = str(Path(sys.executable).parent / "pmem")


async def main() -> None:
    params = StdioServerParameters(command=PMEM, args=["serve"], env=dict(os.environ))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()

        for fact in (
            "I prefer tabs over spaces when writing Python",
            "I live in Lyon, France",
            "I am allergic to peanuts",
        ):
            stored = await session.call_tool("remember", {"content": fact})
            print("remembered:", stored.structured_content)

        found = await session.call_tool("recall", {"query": "what should I avoid eating?", "limit": 1})
        best = found.structured_content["memories"][0]  # type: ignore[index]
        print("recall ->", best["content"], f"(score {best['score']:.2f})")

        profile = await session.call_tool("profile", {"format": "claude"})
        print(profile.structured_content["profile"])  # type: ignore[index]


if __name__ == "__main__":
    anyio.run(main)
