"""``pmem train compress`` end to end on the tiny local model: every number comes from a real measurement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from personal_memory.plm.compress.prune import count_parameters
from personal_memory.plm.compress.quantize import CPU_CANDIDATES, QuantMethod, load_quantized
from personal_memory.plm.compress.report import weights_size
from personal_memory.plm.trainer.extraction import Extraction
from personal_memory.plm.trainer.store import TrainerStore
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import utcnow
from personal_memory.pms.service import MemoryService
from tests.plm.conftest import fill

ACTIVATIONS = ["home"] * 50 + ["programming"] * 30 + ["family"] * 19 + ["food"]


@pytest.fixture
def pmem(isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tiny_llama: Path):  # type: ignore[no-untyped-def]
    """The CLI over a person's memories, with the trainer's domain counts logged and the tiny base model."""
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    monkeypatch.setenv("PMEM_TRAIN_THREADS", "1")
    monkeypatch.setenv("PMEM_BASE_MODEL", str(tiny_llama))
    paths = DataPaths(isolated_home)
    service = MemoryService(paths, HashEmbedder())
    fill(service)
    service.close()
    store = TrainerStore(paths.trainer)
    for seq, domain in enumerate(ACTIVATIONS, start=1):
        store.apply(seq, Extraction(domains=[domain]), utcnow())
    store.close()
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["train", *args])
        return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr

    return invoke


def test_compress_prunes_recovers_and_quantises_the_personal_model_and_reports_measured_numbers(  # type: ignore[no-untyped-def]
    pmem, tiny_llama: Path
) -> None:
    from transformers import AutoModelForCausalLM

    code, out = pmem("compress")
    assert code == 1 and "pmem train prepare" in out and "Traceback" not in out
    assert pmem("prepare")[0] == 0
    assert pmem("run", "--epochs", "20", "--grad-accum", "1", "--lr", "3e-3")[0] == 0

    code, out = pmem("compress", "--json", "--head-share", "0.5", "--recover-epochs", "4", "--recover-lr", "1e-3")
    assert code == 0, out
    report = json.loads(out)
    original, pruned, recovered, quantised = report["stages"]
    assert [s["step"] for s in report["stages"]] == ["original", "pruned", "recovered", "quantised"]
    choice = report["quantisation_choice"]
    assert "adapter v1-" in report["source"] and report["quantisation"] == QuantMethod(choice["chosen"]).label
    tried = [c["method"] for c in choice["candidates"]]
    assert tried == [m.value for m in CPU_CANDIDATES][: len(tried)] and choice["reference_f1"] == recovered["f1"]
    chosen = next(c for c in choice["candidates"] if c["method"] == choice["chosen"])
    assert chosen["f1"] == quantised["f1"] and choice["met"] == (chosen["f1"] >= 0.95 * recovered["f1"])
    decisions = {d["domain"]: d["decision"] for d in report["domains"]["domains"]}
    assert decisions["home"] == "keep" and decisions["food"] == "neutral" and decisions["music"] == "prune"

    folder = Path(report["folder"])
    model = AutoModelForCausalLM.from_pretrained(folder / "recovered", local_files_only=True)
    assert (model.config.intermediate_size, model.config.num_attention_heads) == (64, 2)
    assert recovered["parameters"] == count_parameters(model) == quantised["parameters"] < original["parameters"]
    assert pruned["parameters"] == recovered["parameters"]
    assert original["size_bytes"] == weights_size(tiny_llama)  # same shapes, same fp32 format as the base
    assert recovered["size_bytes"] == (folder / "recovered" / "model.safetensors").stat().st_size
    assert quantised["size_bytes"] == weights_size(folder / "quantised") < recovered["size_bytes"] / 3
    assert count_parameters(load_quantized(folder / "quantised")) == quantised["parameters"]
    assert all(s["tokens_per_second"] > 0 for s in report["stages"])
    assert original["f1"] > 0.5  # the trained adapter knows the person
    assert recovered["perplexity"] < pruned["perplexity"]  # distillation from the original recovers
    assert json.loads((folder / "report.json").read_text())["stages"] == report["stages"]
    assert not (folder / "measure").exists()

    code, out = pmem("compress", "--quantize", "none", "--recover-epochs", "1")
    assert code == 0, out
    rows = [line.split()[0] for line in out.splitlines()[3:7]]  # after the source line and the two header lines
    assert rows == ["original", "pruned", "recovered", "SEED"] and "quantisation: not quantised" in out
    assert "SEED target: >= 95% quality at <= 1/8 of fp16 size" in out and "recovered: quality" in out
