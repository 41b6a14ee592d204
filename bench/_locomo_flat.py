"""The flat case: the same turns stored one by one through the MCP ``remember`` tool, asked through ``recall``."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from bench._locomo_data import Conversation, Scores
from personal_memory.config import Settings, load_settings
from personal_memory.container import embedder_kind
from personal_memory.pms.embedding import identity_of
from personal_memory.server.app import build_server

LIMIT = 20


async def _call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"{tool} failed: {result.content}")
    return result.structured_content


async def _fill(conv: Conversation, home: Path, embedder_cache: Path) -> None:
    async with Client(build_server(_settings(home, embedder_cache), warm_up=False)) as client:
        for text in conv.texts:
            await _call(client, "remember", content=text)


async def _ask(conv: Conversation, home: Path, embedder_cache: Path) -> Scores:
    by_content: dict[str, set[str]] = {}
    for dia_id, text in zip(conv.dia_ids, conv.texts, strict=True):
        by_content.setdefault(text, set()).add(dia_id)
    scores = Scores()
    async with Client(build_server(_settings(home, embedder_cache), warm_up=False)) as client:
        for question in conv.questions:
            found = await _call(client, "recall", query=question.text, limit=LIMIT)
            scores.add(question, [by_content.get(m["content"], set()) for m in found["memories"]])
    return scores


def _settings(home: Path, embedder_cache: Path) -> Settings:
    os.environ["PMEM_HOME"] = str(home)
    return load_settings(embedder_cache=embedder_cache, promotion_interval_minutes=0)


def flat_scores(convs: list[Conversation], embedder_cache: Path, cache: Path) -> Scores:
    """Every conversation in its own PMEM_HOME, filled once through MCP (cached) and asked on a fresh copy."""
    total = Scores()
    before = os.environ.get("PMEM_HOME")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            identity = identity_of(embedder_kind(_settings(Path(tmp), embedder_cache)))  # one model's vectors
            for conv in convs:
                key = hashlib.sha256("\x1e".join([identity, *conv.texts]).encode()).hexdigest()[:12]
                cached = cache / "flat" / f"{conv.sample_id}-{key}"
                if not cached.exists():
                    staging = Path(tmp) / f"fill-{conv.sample_id}"
                    anyio.run(_fill, conv, staging, embedder_cache)
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copytree(staging, cached)
                home = Path(tmp) / conv.sample_id
                shutil.copytree(cached, home)
                total.extend(anyio.run(_ask, conv, home, embedder_cache))
    finally:
        if before is None:
            os.environ.pop("PMEM_HOME", None)
        else:
            os.environ["PMEM_HOME"] = before
    return total
