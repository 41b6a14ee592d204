"""A real ``redis-server`` for the Redis tests: a free loopback port, a temp dir, AOF fsynced on every write."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server; .ci/run installs it)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """One redis-server process; ``kill`` is a SIGKILL, ``start`` reopens the same dir (and AOF)."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    _drain: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        guard = threading.Timer(20, self.process.kill)  # a server that never becomes ready must not hang the test
        guard.start()
        try:
            seen = []
            for line in self.process.stdout:
                seen.append(line)
                if "Ready to accept connections" in line:
                    # Keep reading its log, or a full pipe would block the server.
                    self._drain = threading.Thread(target=self.process.stdout.read, daemon=True)
                    self._drain.start()
                    return
            raise AssertionError(f"redis-server did not start: {''.join(seen)}")
        finally:
            guard.cancel()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            if self._drain is not None:
                self._drain.join(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


def running_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """The body of each Redis test module's ``redis_server`` fixture: a fresh server, killed afterwards."""
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()
