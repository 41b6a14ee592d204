"""The server answers initialize and tools/list without loading the model or LanceDB."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys, anyio
from mcp import Client
from personal_memory.config import load_settings
from personal_memory.server.app import build_server

async def main():
    server = build_server(load_settings(), warm_up=False)
    async with Client(server) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "recall" in names, names
    heavy = sorted(m for m in ("torch", "onnxruntime", "lancedb", "transformers", "sentence_transformers")
                   if m in sys.modules)
    print("heavy:", ",".join(heavy))

anyio.run(main)
"""


def test_listing_tools_loads_no_heavy_library() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "heavy:"
