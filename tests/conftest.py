"""Shared fixtures: an isolated PMEM_HOME per test, the real embedder exported once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from personal_memory.pms.embedding import HashEmbedder, OnnxMiniLMEmbedder, build_embedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.service import MemoryService


@pytest.fixture(scope="session")
def embedder_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ONNX export of MiniLM, made once for the whole run (about 10 s)."""
    shared = os.environ.get("PMEM_TEST_EMBEDDER_CACHE")
    cache = Path(shared) if shared else tmp_path_factory.mktemp("embedder")
    build_embedder("onnx", cache)
    return cache


@pytest.fixture(scope="session")
def real_embedder(embedder_cache: Path) -> OnnxMiniLMEmbedder:
    embedder = build_embedder("onnx", embedder_cache)
    assert isinstance(embedder, OnnxMiniLMEmbedder)
    return embedder


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir; no PMEM_* setting leaks in from the host."""
    for key in list(os.environ):
        if key.startswith("PMEM_") and key != "PMEM_TEST_EMBEDDER_CACHE":
            monkeypatch.delenv(key)
    home = tmp_path / "pmem-home"
    monkeypatch.setenv("PMEM_HOME", str(home))
    return home


@pytest.fixture
def paths(isolated_home: Path) -> DataPaths:
    return DataPaths(isolated_home)


@pytest.fixture
def fake_service(paths: DataPaths) -> Iterator[MemoryService]:
    """A service over real SQLite and LanceDB files with the fast fake embedder."""
    service = MemoryService(paths, HashEmbedder())
    yield service
    service.close()


@pytest.fixture
def real_service(paths: DataPaths, real_embedder: OnnxMiniLMEmbedder) -> Iterator[MemoryService]:
    """A service with the real MiniLM model, for anything that asserts retrieval quality."""
    service = MemoryService(paths, real_embedder)
    yield service
    service.close()


@pytest.fixture
def server_env(isolated_home: Path, embedder_cache: Path) -> dict[str, str]:
    """Environment for a spawned ``pmem serve``: the test's data dir and the shared model export."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env.update(PMEM_HOME=str(isolated_home), PMEM_EMBEDDER_CACHE=str(embedder_cache))
    return env
