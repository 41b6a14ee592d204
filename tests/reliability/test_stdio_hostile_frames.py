"""Malformed protocol frames on stdio: the server answers or skips them and keeps serving."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from tests.e2e.mcp_helpers import pmem_command

pytestmark = pytest.mark.anyio


def _frame(message: dict[str, Any]) -> bytes:
    return (json.dumps(message) + "\n").encode()


def _request(request_id: int, method: str, params: dict[str, Any]) -> bytes:
    return _frame({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


async def _reply(lines: Any, request_id: int) -> dict[str, Any]:
    async for line in lines:
        message = json.loads(line)
        if message.get("id") == request_id:
            return message
    raise AssertionError(f"the server closed stdout before answering request {request_id}")


async def _lines(process: Process) -> Any:
    assert process.stdout is not None
    buffer = ""
    async for chunk in TextReceiveStream(process.stdout):
        buffer += chunk
        *complete, buffer = buffer.split("\n")
        for line in complete:
            yield line


HOSTILE_FRAMES = [
    b"[" * 200_000 + b"\n",  # JSON nested far past any parser's recursion limit
    b'{"jsonrpc": "2.0", "id": 90, "method": "tools/call", "params": '
    + b'{"a":' * 50_000
    + b"1"
    + b"}" * 50_001
    + b"\n",
    b"\xff\xfe not utf-8 \xc3\x28\n",
    b'{"jsonrpc": "2.0", "id": 91, "method": "tools/call", "params": {"name": "recall", "arguments": '
    b'{"query": "x", "limit": NaN}}}\n',
    b'{"jsonrpc": "2.0", "id": 92, "method": "tools/call", "params": {"name": "remember", "arguments": '
    b'{"content": "\\ud800 lone"}}}\n',
    b"x" * 3_000_000 + b"\n",
]


async def test_malformed_frames_never_crash_or_hang_the_stdio_server(server_env: dict[str, str]) -> None:
    env = server_env | {"PMEM_EMBEDDER": "hash"}
    with anyio.fail_after(90):
        async with await anyio.open_process([pmem_command(), "serve"], env=env) as process:
            assert process.stdin is not None
            lines = _lines(process)
            await process.stdin.send(
                _request(
                    1,
                    "initialize",
                    {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "clientInfo": {"name": "fuzz", "version": "0"},
                    },
                )
            )
            assert "result" in await _reply(lines, 1)
            await process.stdin.send(_frame({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            for frame in HOSTILE_FRAMES:
                await process.stdin.send(frame)
            remember = {"name": "remember", "arguments": {"content": "I still work after garbage"}}
            await process.stdin.send(_request(2, "tools/call", remember))
            stored = await _reply(lines, 2)
            assert stored["result"]["structuredContent"]["status"] == "created"
            await process.stdin.aclose()
            assert await process.wait() == 0
