"""Ingest runs end to end: stored memories that recall finds, idempotent re-runs, bad files, resumption."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from personal_memory.ingest.datapoint import reliability_for
from personal_memory.ingest.errors import IngestError
from personal_memory.ingest.ledger import Ledger
from personal_memory.ingest.pipeline import Ingestion, IngestOptions, IngestSummary
from personal_memory.ingest.registry import load_ingesters
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.errors import EmbedderUnavailableError
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.service import MemoryService, RecallQuery
from tests.ingest.exports import (
    chatgpt_conversation,
    claude_conversation,
    commit,
    git_repo,
    mastodon_outbox,
    photo,
    twitter_archive,
    write_json,
)

INGESTERS = load_ingesters(plugins=False)


@pytest.fixture
def ledger(paths: DataPaths) -> Iterator[Ledger]:
    opened = Ledger(paths.home / "data" / "ingest.sqlite")
    yield opened
    opened.close()


def _ingest(
    service: MemoryService | None, ledger: Ledger | None, source: str, path: Path, **options: object
) -> IngestSummary:
    settings = IngestOptions(reliability=reliability_for(source), **options)  # type: ignore[arg-type]
    return Ingestion(settings, ledger, service).run(INGESTERS[source], path)


def _top(service: MemoryService, query: str) -> str:
    return service.recall(RecallQuery(text=query, limit=1), touch=False)[0].entry.content


def _sources(tmp_path: Path) -> dict[str, Path]:
    """One small export per source kind, each holding one statement to recall."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "me.md").write_text("---\ntags: [me]\n---\n# About\nI grow tomatoes on my balcony.\n")
    repo = git_repo(tmp_path / "compiler")
    commit(repo, {"src/lexer.rs": "fn lex() {}\n"}, "Add lexer")
    return {
        "notes": vault,
        "git": repo,
        "chatgpt": write_json(
            tmp_path / "gpt" / "conversations.json",
            [chatgpt_conversation(1, [("user", "I play the cello in an orchestra."), ("assistant", "Lovely!")])],
        ),
        "claude": write_json(
            tmp_path / "claude" / "conversations.json",
            [claude_conversation(1, [("human", "My sister Ana lives in Porto.")])],
        ),
        "twitter": twitter_archive(tmp_path / "x", ["I finished my first triathlon today!"]),
        "mastodon": mastodon_outbox(tmp_path / "masto" / "outbox.json", ["<p>I keep bees in my garden.</p>"]),
        "photos": photo(tmp_path / "photos" / "IMG_1.jpg", camera=("FUJIFILM", "X100V")),
    }


RECALLS = {
    "notes": ("tomatoes balcony", "I grow tomatoes on my balcony."),
    "git": ("Rust code", "I write Rust code."),
    "chatgpt": ("cello orchestra", "I play the cello in an orchestra."),
    "claude": ("sister Porto", "My sister Ana lives in Porto."),
    "twitter": ("triathlon", "I finished my first triathlon today!"),
    "mastodon": ("bees garden", "I keep bees in my garden."),
    "photos": ("photos FUJIFILM X100V", "I take photos with a FUJIFILM X100V."),
}


def test_every_source_ingests_into_memories_that_recall_finds(
    tmp_path: Path, fake_service: MemoryService, ledger: Ledger
) -> None:
    for source, path in _sources(tmp_path).items():
        summary = _ingest(fake_service, ledger, source, path)
        assert summary.errors == [] and summary.created >= 1, source
        query, expected = RECALLS[source]
        assert _top(fake_service, query) == expected, source
    entry = fake_service.recall(RecallQuery(text="cello orchestra", limit=1))[0].entry
    (source,) = entry.sources
    assert source.kind == "chatgpt" and source.reference and source.reference.startswith("chatgpt:")
    assert source.reliability == reliability_for("chatgpt") == entry.confidence.source_reliability
    assert source.timestamp == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)


def test_a_second_run_on_the_same_export_adds_nothing(
    tmp_path: Path, fake_service: MemoryService, ledger: Ledger
) -> None:
    export = write_json(
        tmp_path / "conversations.json",
        [
            chatgpt_conversation(i, [("user", f"I visited city number {i}."), ("user", "I love jazz.")])
            for i in range(5)
        ],
    )
    first = _ingest(fake_service, ledger, "chatgpt", export)
    assert (first.datapoints, first.created, first.corroborated) == (10, 6, 4)
    before = fake_service.stats()
    again = _ingest(fake_service, ledger, "chatgpt", export)
    assert (again.datapoints, again.already_ingested, again.candidates, again.stored) == (10, 10, 0, 0)
    assert fake_service.stats() == before
    jazz = fake_service.recall(RecallQuery(text="jazz", limit=1))[0].entry
    assert jazz.confidence.corroboration_count == 4


def test_a_corrupt_file_stores_nothing_and_the_run_goes_on(
    tmp_path: Path, fake_service: MemoryService, ledger: Ledger
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "a.md").write_text("I speak Greek.\n")
    (vault / "b.md").write_bytes("I like crêpes.\n".encode() + b"\xff\xfe broken")
    (vault / "c.md").write_text("I sail on weekends.\n")
    summary = _ingest(fake_service, ledger, "notes", vault)
    assert summary.files == 2 and summary.created == 2 and summary.datapoints == 2
    assert (
        len(summary.errors) == 1 and summary.errors[0].startswith(str(vault / "b.md")) and "UTF-8" in summary.errors[0]
    )
    assert {h.entry.content for h in fake_service.recall(RecallQuery(text="crêpes Greek sail"))} == {
        "I speak Greek.",
        "I sail on weekends.",
    }


def test_a_truncated_export_leaves_no_half_of_it_in_the_store(
    tmp_path: Path, fake_service: MemoryService, ledger: Ledger
) -> None:
    export = write_json(
        tmp_path / "conversations.json",
        [chatgpt_conversation(i, [("user", f"I own {i + 2} guitars.")]) for i in range(20)],
    )
    text = export.read_text()
    export.write_text(text[: len(text) * 3 // 4])
    summary = _ingest(fake_service, ledger, "chatgpt", export)
    assert "truncated" in summary.errors[0] and summary.stored == 0
    assert fake_service.stats()["short_term"]["active"] == 0
    export.write_text(text)  # the user downloads it again: everything goes in now
    assert _ingest(fake_service, ledger, "chatgpt", export).created == 20


class _DiesOnBookFive(HashEmbedder):
    """An embedder that fails on the second batch, as if the process died in the middle of a run."""

    def embed(self, texts: list[str]) -> np.ndarray:
        if any("number 5" in t for t in texts):
            raise EmbedderUnavailableError("the model went away")
        return super().embed(texts)


def test_an_interrupted_run_resumes_without_duplicates(tmp_path: Path, paths: DataPaths, ledger: Ledger) -> None:
    export = write_json(
        tmp_path / "conversations.json",
        [chatgpt_conversation(i, [("user", f"I have read book number {i}.")]) for i in range(9)],
    )
    broken = MemoryService(paths, _DiesOnBookFive())
    with pytest.raises(EmbedderUnavailableError):
        _ingest(broken, ledger, "chatgpt", export, batch_size=4)
    assert broken.stats()["short_term"]["active"] == 4
    broken.close()
    service = MemoryService(paths, HashEmbedder())
    resumed = _ingest(service, ledger, "chatgpt", export, batch_size=4)
    assert (resumed.created, resumed.corroborated, resumed.already_ingested) == (5, 0, 9)
    assert service.stats()["short_term"]["active"] == 9
    service.close()


def test_a_dry_run_shows_the_memories_and_writes_nothing(tmp_path: Path, paths: DataPaths) -> None:
    archive = twitter_archive(tmp_path / "x", ["I adopted a dog.", "I started pottery classes."])
    dry = _ingest(None, None, "twitter", archive)
    assert dry.sample == ["I adopted a dog.", "I started pottery classes."] and dry.stored == 0
    assert not paths.home.exists()


def test_since_skips_what_is_older(tmp_path: Path, fake_service: MemoryService, ledger: Ledger) -> None:
    archive = twitter_archive(tmp_path / "x", ["I adopted a dog.", "I started pottery classes."])
    newer = _ingest(fake_service, ledger, "twitter", archive, since=datetime(2018, 10, 11, tzinfo=UTC))
    assert (newer.before_since, newer.created) == (1, 1)
    assert _top(fake_service, "pottery") == "I started pottery classes."


def test_a_second_ingest_at_the_same_time_is_refused(paths: DataPaths, ledger: Ledger) -> None:
    with pytest.raises(IngestError, match="Another `pmem ingest` is running"):
        Ledger(paths.home / "data" / "ingest.sqlite")


def test_ingested_memories_are_found_by_meaning_with_the_real_model(
    tmp_path: Path, real_service: MemoryService, ledger: Ledger
) -> None:
    export = write_json(
        tmp_path / "conversations.json",
        [
            chatgpt_conversation(
                1, [("user", "Can you suggest a recipe? I am allergic to peanuts and I cook every day.")]
            ),
            chatgpt_conversation(2, [("user", "I moved to Montreal last spring. Write me a haiku.")]),
        ],
    )
    summary = _ingest(real_service, ledger, "chatgpt", export)
    assert summary.created == 3
    assert _top(real_service, "which foods should I avoid?") == "I am allergic to peanuts."
    assert _top(real_service, "what city is home?") == "I moved to Montreal last spring."
