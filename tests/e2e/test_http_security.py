"""HTTP safety over a real loopback port: token, Host/Origin allow-lists, request size limits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from personal_memory.config import load_settings
from personal_memory.server.transports import TransportConfigError, check_http_settings, max_request_bytes
from tests.e2e.mcp_helpers import pmem_command

TOKEN = "correct-horse-battery-staple"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real ``pmem serve --transport streamable-http`` on loopback for the whole module."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env |= {"PMEM_HOME": str(tmp_path_factory.mktemp("http-home")), "PMEM_EMBEDDER": "hash", "PMEM_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [pmem_command(), "serve", "--transport", "streamable-http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}/mcp"
    try:
        _wait_until_listening(endpoint, proc)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_until_listening(endpoint: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(endpoint, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)  # polling a port that is not open yet: nothing to wait on
    raise AssertionError(f"pmem serve did not start listening (exit code {proc.poll()})")


def _post(url: str, headers: dict[str, str], body: bytes | None = None) -> httpx.Response:
    content = body if body is not None else httpx.Request("POST", url, json=INITIALIZE).content
    return httpx.post(url, headers=MCP_HEADERS | headers, content=content, timeout=30)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"bearer {TOKEN}",
        TOKEN,
        "Bearer " + "a" * 10_000,
    ],
)
def test_a_request_without_the_exact_token_gets_401(url: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = _post(url, headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_the_right_token_from_a_loopback_origin_is_served(url: str) -> None:
    response = _post(url, AUTH | {"Origin": "http://localhost:3000"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:8765", "127.0.0.1.evil.example.com:80"])
def test_a_rebound_host_header_is_refused(url: str, host: str) -> None:
    assert _post(url, AUTH | {"Host": host}).status_code == 421


@pytest.mark.parametrize("origin", ["http://evil.example.com", "https://localhost.evil.example.com", "null"])
def test_a_foreign_origin_is_refused(url: str, origin: str) -> None:
    assert _post(url, AUTH | {"Origin": origin}).status_code == 403


def test_an_oversized_body_is_refused_before_it_is_parsed(url: str) -> None:
    limit = max_request_bytes(load_settings())
    assert _post(url, AUTH, b"[" * (limit + 1)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming too
        for _ in range(limit // 65_536 + 2):
            yield b" " * 65_536

    response = httpx.post(url, headers=MCP_HEADERS | AUTH, content=chunks(), timeout=30)
    assert response.status_code == 413


def test_the_largest_memory_fits_under_the_limit_even_fully_escaped(url: str) -> None:
    settings = load_settings()
    content = "\u2028" * (settings.max_content_bytes // 3)  # 3 UTF-8 bytes, 6 escaped JSON bytes each
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "remember", "arguments": {"content": content}},
    }
    assert len(json.dumps(call).encode()) <= max_request_bytes(settings)
    response = _post(url, AUTH, json.dumps(call).encode())
    assert response.status_code != 413


def test_listening_beyond_loopback_needs_a_token_and_named_hosts() -> None:
    with pytest.raises(TransportConfigError, match="without a token"):
        check_http_settings(load_settings(host="192.168.1.20"))
    with pytest.raises(TransportConfigError, match="PMEM_ALLOWED_HOSTS"):
        check_http_settings(load_settings(host="0.0.0.0", token=TOKEN))
    check_http_settings(load_settings(host="0.0.0.0", token=TOKEN, allowed_hosts=["pmem.lan"]))
    check_http_settings(load_settings())
    assert load_settings().host == "127.0.0.1"
