"""The whole Titan loop with a real LoRA on a tiny locally built Llama: MCP calls -> log -> trainer -> adapter."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from anyio import fail_after
from mcp import Client

from personal_memory.config import Settings, load_settings
from personal_memory.container import build_service, build_sidecar
from personal_memory.plm.data import memory_weight
from personal_memory.plm.trainer.sidecar import Sidecar
from personal_memory.plm.trainer.updater import build_batch
from personal_memory.server.app import build_server
from tests.plm.conftest import CORRECTION, MEMORIES, build_tiny_llama

pytestmark = pytest.mark.anyio

EXTRA = ["My sister Alice can speak Portuguese", "I work on Python code in Lyon"]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-base"))


def _settings(base: Path) -> Settings:
    return load_settings(
        embedder="hash", base_model=str(base), trainer_epochs=20, trainer_learning_rate=3e-3, train_threads=1,
        trainer_merge=False,
    )  # fmt: skip


async def _call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content or {}


async def _remember_all(settings: Settings, contents: list[str]) -> dict[str, str]:
    with fail_after(60):
        async with Client(build_server(settings, warm_up=False)) as client:
            return {c: (await _call(client, "remember", content=c))["id"] for c in contents}


def _sidecar(settings: Settings, clock: Any = None) -> Sidecar:
    return build_sidecar(settings, build_service(settings), clock)


async def test_ten_logged_interactions_trigger_exactly_one_update_and_nine_do_not(tiny_base: Path) -> None:
    settings = _settings(tiny_base)
    contents = [m[0] for m in MEMORIES] + EXTRA
    await _remember_all(settings, contents[:9])
    sidecar = _sidecar(settings)
    assert sidecar.step() is None and sidecar.store.pending_count() == 9
    await _remember_all(settings, contents[9:])
    record = sidecar.step()
    assert record is not None and record.status == "kept" and record.events == 10, record
    assert record.metrics["f1"] >= record.metrics["f1_before"]
    assert sidecar.step() is None and sidecar.store.pending_count() == 0
    assert sidecar.updater.pipeline.registry.active().id == record.adapter_id  # type: ignore[attr-defined]


async def test_one_queued_event_updates_after_24_hours(tiny_base: Path) -> None:
    settings = _settings(tiny_base)
    now = [datetime.now(UTC)]
    await _remember_all(settings, [MEMORIES[0][0]])
    sidecar = _sidecar(settings, clock=lambda: now[0])
    assert sidecar.step() is None
    now[0] += timedelta(hours=24, minutes=1)
    record = sidecar.step()
    assert record is not None and "since the last update" in record.trigger


async def test_feedback_weights_reach_the_training_examples(tiny_base: Path) -> None:
    settings = _settings(tiny_base)
    ids = await _remember_all(settings, [MEMORIES[0][0], MEMORIES[1][0]])
    async with Client(build_server(settings, warm_up=False)) as client:
        await _call(client, "feedback", target_id=ids[MEMORIES[0][0]], rating="good")
        await _call(client, "feedback", target_id=ids[MEMORIES[1][0]], rating="bad")
    sidecar = _sidecar(settings)
    sidecar.consume()
    service = sidecar.updater.service  # type: ignore[attr-defined]
    weights = {e.memory_id: e.weight for e in build_batch(service, sidecar.store.pending()).train}
    good, bad = (service.find_active(UUID(ids[m[0]])) for m in MEMORIES[:2])
    assert weights[str(good.id)] == pytest.approx(memory_weight(good) * 1.5, abs=1e-3)
    assert weights[str(bad.id)] == pytest.approx(memory_weight(bad) * 0.5, abs=1e-3)


async def test_a_correction_through_mcp_changes_what_the_updated_plm_answers(tiny_base: Path) -> None:
    from personal_memory.plm import data
    from personal_memory.plm.inference import PersonalModel

    settings = _settings(tiny_base)
    ids = await _remember_all(settings, [m[0] for m in MEMORIES])
    sidecar = _sidecar(settings)
    sidecar.store.request_update(sidecar.clock())
    first = sidecar.step()
    assert first is not None and first.status == "kept"
    question = data.EVAL_TEMPLATES[0].format(topic="live lyon two cats")
    model = PersonalModel.load(tiny_base, sidecar.updater.pipeline.registry.active().path, threads=1)  # type: ignore[attr-defined]
    assert "lyon" in model.answer(question, max_new_tokens=12).lower()

    async with Client(build_server(settings, warm_up=False)) as client:
        await _call(client, "correct", memory_id=ids[CORRECTION[0]], correction=CORRECTION[1])
    sidecar.store.request_update(sidecar.clock())
    second = sidecar.step()
    assert second is not None and second.status == "kept", second
    model = PersonalModel.load(tiny_base, sidecar.updater.pipeline.registry.active().path, threads=1)  # type: ignore[attr-defined]
    answer = model.answer(question, max_new_tokens=12).lower()
    assert "porto" in answer and "lyon" not in answer


WORKER = """
import sys
from personal_memory.config import load_settings
from personal_memory.container import build_service, build_sidecar
settings = load_settings(embedder="hash", base_model=sys.argv[1], trainer_epochs=200, trainer_learning_rate=3e-3,
                         train_threads=1, trainer_merge=False)
sidecar = build_sidecar(settings, build_service(settings))
sidecar.store.request_update(sidecar.clock())
sidecar.step()
"""


async def test_a_trainer_killed_mid_update_loses_no_event_and_keeps_serving_the_old_adapter(
    tiny_base: Path, isolated_home: Path
) -> None:
    settings = _settings(tiny_base)
    await _remember_all(settings, [m[0] for m in MEMORIES])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")} | {"PMEM_HOME": str(isolated_home)}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(tiny_base)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not _running_update(settings):
            assert worker.poll() is None and time.monotonic() < deadline, "the update never started"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    sidecar = _sidecar(settings)
    assert sidecar.store.abandon_running(sidecar.clock()) == 1
    assert sidecar.store.pending_count() == len(MEMORIES)  # nothing lost, nothing marked used
    assert sidecar.updater.pipeline.registry.load().active is None  # type: ignore[attr-defined]
    sidecar.consume()
    assert sidecar.store.pending_count() == len(MEMORIES)  # nothing counted twice on restart
    record = sidecar.step()
    assert record is not None and record.status == "kept" and record.events == len(MEMORIES)
    assert [u.status for u in sidecar.store.updates()] == ["kept", "interrupted"]


def _running_update(settings: Settings) -> bool:
    path = settings.paths.trainer
    if not path.exists():
        return False
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT 1 FROM updates WHERE status = 'running'").fetchone() is not None
        except sqlite3.OperationalError:
            return False


async def test_the_optional_pruning_pass_compresses_after_a_kept_update(tiny_base: Path) -> None:
    settings = _settings(tiny_base).model_copy(update={"trainer_compress": True})
    await _remember_all(settings, [m[0] for m in MEMORIES])
    async with Client(build_server(settings, warm_up=False)) as client:
        await _call(client, "recall", query="python code tabs")  # a domain activation for the pruning plan
    sidecar = _sidecar(settings)
    sidecar.store.request_update(sidecar.clock())
    record = sidecar.step()
    assert record is not None and record.status == "kept"
    reports = list((settings.paths.models / "compressed").glob("*/report.json"))
    assert len(reports) == 1 and "quantis" in reports[0].read_text()
