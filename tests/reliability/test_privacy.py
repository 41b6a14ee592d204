"""Privacy: a private data dir, forgetting that leaves no copy on disk, and a complete export/import."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from personal_memory.plm.trainer.extraction import extract
from personal_memory.plm.trainer.store import TrainerStore
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryEntry, Tier
from personal_memory.pms.service import MemoryService, NewMemory

EMB = HashEmbedder()
SECRET = "zyxsecret"


def _long_term(texts: list[str]) -> list[MemoryEntry]:
    vectors = EMB.embed(texts)
    return [
        MemoryEntry(content=t, tier=Tier.LONG_TERM, embedding=v.tolist()) for t, v in zip(texts, vectors, strict=True)
    ]


def _fill(service: MemoryService) -> list[MemoryEntry]:
    """Memories in every tier, the long-term ones in one LanceDB fragment with a secret among them."""
    for i in range(20):
        service.remember(NewMemory(content=f"short-term filler {i} about the weather"))
    batch = _long_term([f"long-term filler {i} about gardens" for i in range(40)] + [f"{SECRET}long my diagnosis"])
    service.store(Tier.LONG_TERM).add_many(batch)
    service.store(Tier.PERSISTENT).add(_long_term(["I am Ada"])[0].model_copy(update={"tier": Tier.PERSISTENT}))
    return batch


def _files_containing(home: Path, needle: str) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(autouse=True)
def hash_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")


def test_the_data_dir_is_private_to_its_user(fake_service: MemoryService, paths: DataPaths) -> None:
    _fill(fake_service)
    _cli("remember", "logged through the CLI too")
    entries = list(paths.home.rglob("*"))
    assert len(entries) > 10
    for path in [paths.home, *entries]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {oct(mode)}"


def test_forgetting_leaves_no_copy_of_the_text_on_disk(fake_service: MemoryService, paths: DataPaths) -> None:
    batch = _fill(fake_service)
    short = fake_service.remember(NewMemory(content=f"{SECRET}short my bank pin")).entry
    fake_service.store(Tier.LONG_TERM).add_many(_long_term(["a later version of the table"]))
    assert _files_containing(paths.home / "data" / "short_term", SECRET)
    fake_service.forget(short.id)
    fake_service.forget(batch[-1].id)
    assert _files_containing(paths.home / "data", SECRET) == []
    assert fake_service.store(Tier.LONG_TERM).count() == 41  # the rest of the fragment is intact


def _log_calls(paths: DataPaths, *contents: str) -> None:
    log = InteractionLog(paths.interactions)
    for content in contents:
        result = {"id": "x", "status": "created"}
        log.append(datetime(2026, 11, 25, tzinfo=UTC), "remember", {"content": content}, result, ["x"])
    log.close()


def test_forget_all_removes_every_memory_the_interaction_log_and_the_training_queue(paths: DataPaths) -> None:
    _cli("remember", f"{SECRET} one")
    service = MemoryService(paths, EMB)
    _fill(service)
    service.close()
    _log_calls(paths, f"{SECRET} one")
    trainer = TrainerStore(paths.trainer)  # the trainer has queued what it read from the log
    for interaction in InteractionLog(paths.interactions).read():
        trainer.apply(interaction.seq, extract(interaction), interaction.ts)
    trainer.close()
    out = json.loads(_cli("forget", "--all", "--yes", "--json"))
    assert out == {"memories": 63, "interactions": 1, "learning_events": 1}
    assert _files_containing(paths.home, SECRET) == []
    counts = json.loads(_cli("stats", "--json"))
    assert all(n == 0 for tier in counts.values() for n in tier.values())


def test_forget_needs_an_id_or_all() -> None:
    result = CliRunner().invoke(main, ["forget"])
    assert result.exit_code == 2 and "MEMORY_ID or --all" in result.output


def test_export_then_import_restores_everything_exactly(tmp_path: Path, paths: DataPaths) -> None:
    _cli("remember", "I prefer tabs over spaces", "--tag", "style")
    first = _cli("remember", "I live in Lyon", "--json")
    _cli("correct", json.loads(first)["id"], "I live in Berlin")
    service = MemoryService(paths, EMB)
    _fill(service)
    service.close()
    _log_calls(paths, "I prefer tabs", "lone \udc80 surrogate", "über")
    adapters = paths.models / "lora_adapter" / "registry.json"
    adapters.write_text('{"active": null, "versions": []}')
    archive = tmp_path / "me.pmem.zip"
    exported = json.loads(_cli("export", str(archive), "--json"))
    assert exported["memories"] == 65 and exported["interactions"] == 3
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    other = tmp_path / "other-home"
    report = json.loads(_cli("--home", str(other), "import", str(archive), "--json"))
    assert report == {"memories_added": 65, "memories_skipped": 0, "interactions_added": 3, "reembedded": False}
    again = tmp_path / "again.pmem.zip"
    _cli("--home", str(other), "export", str(again))
    for member in ("memories.jsonl", "interactions.jsonl"):
        assert _lines(archive, member) == _lines(again, member)
    assert json.loads(zipfile.ZipFile(again).read("adapters.json")) is None  # the list is kept aside, not active
    assert (other / "models" / "lora_adapter" / "imported_registry.json").read_text() == adapters.read_text()
    assert json.loads(_cli("--home", str(other), "import", str(archive), "--json"))["memories_skipped"] == 65
    found = json.loads(_cli("--home", str(other), "recall", "where do I live", "--json"))
    assert found[0]["content"] == "I live in Berlin"


def _lines(archive: Path, member: str) -> list[str]:
    return sorted(zipfile.ZipFile(archive).read(member).decode().splitlines())


def test_import_refuses_what_is_not_an_archive(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.zip"
    bogus.write_bytes(os.urandom(64))
    result = CliRunner().invoke(main, ["import", str(bogus)])
    assert result.exit_code == 1 and "not a pmem export archive" in result.output
