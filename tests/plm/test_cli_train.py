"""``pmem train``: the whole pipeline from the command line, on the tiny local model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.service import MemoryService
from tests.plm.conftest import fill


@pytest.fixture
def pmem(isolated_home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    monkeypatch.setenv("PMEM_TRAIN_THREADS", "1")
    service = MemoryService(DataPaths(isolated_home), HashEmbedder())
    fill(service)
    service.close()
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        """Exit code and stdout, or stderr (where errors go) when the command failed."""
        result = runner.invoke(main, ["train", *args])
        return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr

    return invoke


def test_training_without_a_base_model_says_how_to_configure_one(pmem) -> None:  # type: ignore[no-untyped-def]
    code, out = pmem("prepare")
    assert code == 0 and "training examples" in out
    code, out = pmem("run")
    assert code == 1 and "No base model is configured" in out and "PMEM_BASE_MODEL" in out
    assert "Traceback" not in out
    code, out = pmem("eval")
    assert code == 1 and "No trained adapter yet" in out


def test_prepare_run_eval_rollback_and_export_from_the_command_line(  # type: ignore[no-untyped-def]
    pmem, monkeypatch: pytest.MonkeyPatch, tiny_llama: Path
) -> None:
    monkeypatch.setenv("PMEM_BASE_MODEL", str(tiny_llama))
    code, out = pmem("prepare", "--json")
    assert code == 0 and json.loads(out)["counts"]["memories"] == 8
    code, out = pmem("run", "--epochs", "20", "--grad-accum", "1", "--lr", "3e-3")
    assert code == 0, out
    assert "mode: lora fp32 (cpu)" in out and "adapter v1-" in out
    code, out = pmem("eval", "--json")
    scores = json.loads(out)
    assert scores["adapter"]["f1"] > scores["base"]["f1"] + 0.4
    code, out = pmem("eval")
    assert "adapter" in out and "exact match" in out
    assert pmem("run", "--epochs", "1", "--no-teacher-log")[0] == 0
    status = json.loads(pmem("status", "--json")[1])
    assert [v["id"][:3] for v in status["versions"]] == ["v1-", "v2-"] and status["active"].startswith("v2-")
    code, out = pmem("rollback")
    assert code == 0 and "active adapter is now v1-" in out
    code, out = pmem("export-ollama", "--name", "me")
    assert code == 0 and "ollama create me -f" in out
    code, out = pmem("status")
    assert "* v1-" in out and "(rolled back)" in out and "f1" in out
