"""The same server over streamable HTTP on a loopback port, and the HTTP safety rules."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from anyio import fail_after, sleep
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.mcp_helpers import pmem_command

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server(server_env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    env = server_env | {"PMEM_TOKEN": "s3cret-token"}
    proc = subprocess.Popen(
        [pmem_command(), "serve", "--transport", "streamable-http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def _wait_until_listening(url: str) -> None:
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await sleep(0.1)


async def test_streamable_http_serves_the_tools_behind_a_token(http_server: str) -> None:
    with fail_after(60):
        await _wait_until_listening(http_server)
        async with httpx.AsyncClient() as raw:
            assert (await raw.post(http_server, json={})).status_code == 401
        headers = {"Authorization": "Bearer s3cret-token"}
        async with (
            httpx2.AsyncClient(headers=headers) as authed,
            streamable_http_client(http_server, http_client=authed) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"remember", "recall", "correct", "forget", "profile"} <= tools
            stored = await client.call_tool("remember", {"content": "I drink my coffee black"})
            assert not stored.is_error
            found = await client.call_tool("recall", {"query": "how do I take my coffee?"})
            assert found.structured_content["memories"][0]["id"] == stored.structured_content["id"]  # type: ignore[index]


def test_http_refuses_a_public_address_without_a_token(server_env: dict[str, str]) -> None:
    done = subprocess.run(
        [pmem_command(), "serve", "--transport", "sse", "--host", "0.0.0.0", "--port", str(_free_port())],
        env=server_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "without a token" in done.stderr
