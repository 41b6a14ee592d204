"""Run the server on stdio (default) or on HTTP (SSE, streamable HTTP), bound to loopback by default.

HTTP safety: a non-loopback bind needs a bearer token; the token is checked in constant time; Host
and Origin headers are checked against an allow-list (DNS rebinding); request bodies are capped.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from typing import Literal

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from personal_memory.config import Settings
from personal_memory.server.app import build_server

logger = logging.getLogger(__name__)

Transport = Literal["stdio", "sse", "streamable-http"]
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")
REQUEST_OVERHEAD_BYTES = 64 * 1024


class TransportConfigError(ValueError):
    """The requested transport settings would be unsafe or cannot work."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    """How a bind address appears in a Host header (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def security_settings(settings: Settings) -> TransportSecuritySettings:
    """Host/Origin allow-lists: loopback names, the bind address, and ``allowed_hosts``."""
    names = list(LOOPBACK_NAMES)
    if settings.host not in WILDCARDS and not is_loopback(settings.host):
        names.append(_host_name(settings.host))
    names.extend(_host_name(h) for h in settings.allowed_hosts)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[pattern for name in names for pattern in (name, f"{name}:*")],
        allowed_origins=[
            f"{scheme}://{name}{port}" for name in names for scheme in ("http", "https") for port in ("", ":*")
        ],
    )


def max_request_bytes(settings: Settings) -> int:
    """Room for the largest memory even if every character is JSON-escaped (``\\uXXXX``), plus the envelope."""
    return 6 * settings.max_content_bytes + REQUEST_OVERHEAD_BYTES


class BearerTokenMiddleware:
    """Rejects HTTP requests without ``Authorization: Bearer <token>``.

    Both sides are hashed before the comparison, so its time depends neither on where the supplied
    token differs nor on its length.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._expected = hashlib.sha256(f"Bearer {token}".encode()).digest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            supplied = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(hashlib.sha256(supplied).digest(), self._expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b"missing or wrong bearer token\n"})
                return
        await self._app(scope, receive, send)


def check_http_settings(settings: Settings) -> None:
    """Refuse settings that would expose the memory: a public bind without a token, or no usable Host."""
    if is_loopback(settings.host):
        return
    if not settings.token:
        raise TransportConfigError(
            f"Refusing to listen on {settings.host} without a token: set PMEM_TOKEN or --token, or bind to 127.0.0.1."
        )
    if settings.host in WILDCARDS and not settings.allowed_hosts:
        raise TransportConfigError(
            f"Listening on {settings.host or 'every address'} needs the host names clients will use, "
            'for DNS-rebinding protection: set PMEM_ALLOWED_HOSTS, e.g. \'["pmem.lan", "192.168.1.20"]\'.'
        )


def http_app(settings: Settings, transport: Literal["sse", "streamable-http"]) -> ASGIApp:
    """The HTTP app with every safety layer applied (also what the tests serve)."""
    check_http_settings(settings)
    server = build_server(settings)
    options = {"transport_security": security_settings(settings), "max_request_body_size": max_request_bytes(settings)}
    app = server.streamable_http_app(**options) if transport == "streamable-http" else server.sse_app(**options)
    return BearerTokenMiddleware(app, settings.token) if settings.token else app


def serve(settings: Settings, transport: Transport = "stdio") -> None:
    if transport == "stdio":
        build_server(settings).run("stdio")
        return
    import uvicorn

    app = http_app(settings, transport)
    logger.warning("Personal Memory listening on http://%s:%d (%s)", settings.host, settings.port, transport)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(), limit_concurrency=64)
