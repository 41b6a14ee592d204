"""Run the server on stdio (default) or on HTTP (SSE, streamable HTTP) bound to loopback."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Literal

from personal_memory.config import Settings
from personal_memory.server.app import build_server

logger = logging.getLogger(__name__)

Transport = Literal["stdio", "sse", "streamable-http"]


class TransportConfigError(ValueError):
    """The requested transport settings would be unsafe or cannot work."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerTokenMiddleware:
    """Rejects HTTP requests without ``Authorization: Bearer <token>`` (constant-time compare)."""

    def __init__(self, app: object, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope["type"] == "http":
            supplied = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(supplied, self._expected):
                await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})  # type: ignore[operator]
                await send({"type": "http.response.body", "body": b"missing or wrong bearer token\n"})  # type: ignore[operator]
                return
        await self._app(scope, receive, send)  # type: ignore[operator]


def serve(settings: Settings, transport: Transport = "stdio") -> None:
    server = build_server(settings)
    if transport == "stdio":
        server.run("stdio")
        return
    if not is_loopback(settings.host) and not settings.token:
        raise TransportConfigError(
            f"Refusing to listen on {settings.host} without a token: set PMEM_TOKEN or --token, "
            "or bind to 127.0.0.1."
        )
    import uvicorn

    app = server.streamable_http_app(host=settings.host) if transport == "streamable-http" else server.sse_app(
        host=settings.host
    )
    asgi = BearerTokenMiddleware(app, settings.token) if settings.token else app
    logger.warning("Personal Memory listening on http://%s:%d (%s)", settings.host, settings.port, transport)
    uvicorn.run(asgi, host=settings.host, port=settings.port, log_level=settings.log_level.lower())  # type: ignore[arg-type]
