"""Each tier against real files in a temp dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.errors import StoreMismatchError
from personal_memory.pms.schema import MemoryEntry, MemoryStatus, Tier
from personal_memory.pms.stores.lance_tier import LanceTierStore
from personal_memory.pms.stores.sqlite_records import RecordTable, fts_query
from personal_memory.pms.stores.sqlite_tier import SqliteTierStore

EMB = HashEmbedder()
TEXTS = ["I prefer tabs over spaces", "I live in Lyon", "My cat is called Miso", "I run every morning"]


def _entries(tier: Tier) -> list[MemoryEntry]:
    vectors = EMB.embed(TEXTS)
    return [MemoryEntry(content=t, tier=tier, embedding=v.tolist()) for t, v in zip(TEXTS, vectors, strict=True)]


def _open(kind: str, tmp_path: Path) -> SqliteTierStore | LanceTierStore:
    if kind == "lance":
        return LanceTierStore(tmp_path / "long_term", EMB.identity, EMB.dim)
    return SqliteTierStore(Tier.SHORT_TERM, tmp_path / "st.sqlite", EMB.identity)


@pytest.mark.parametrize("kind", ["sqlite", "lance"])
def test_tier_round_trips_searches_and_survives_reopen(kind: str, tmp_path: Path) -> None:
    store = _open(kind, tmp_path)
    entries = _entries(store.tier)
    for entry in entries:
        store.add(entry)
    query = EMB.embed(["where do I live Lyon"])[0]
    assert store.dense_search(query, 2)[0][0] == entries[1].id
    assert store.text_search("cat Miso", 5)[0][0] == entries[2].id
    assert store.find_by_hash(entries[3].content_hash) is not None
    store.close()

    reopened = _open(kind, tmp_path)
    got = reopened.get_many([e.id for e in entries], with_embedding=True)
    assert {e.content for e in got.values()} == set(TEXTS)
    assert np.allclose(got[entries[0].id].embedding, entries[0].embedding)
    assert reopened.count() == 4
    reopened.close()


@pytest.mark.parametrize("kind", ["sqlite", "lance"])
def test_superseded_and_removed_records_leave_search(kind: str, tmp_path: Path) -> None:
    store = _open(kind, tmp_path)
    entries = _entries(store.tier)
    for entry in entries:
        store.add(entry)
    entries[0].status = MemoryStatus.SUPERSEDED
    assert store.update(entries[0])
    assert store.remove(entries[2].id)
    assert not store.remove(entries[2].id)
    found = {i for i, _ in store.text_search("tabs spaces cat Miso", 10)}
    if kind == "sqlite":  # the long-term index filters status in the service, not in LanceDB
        assert entries[0].id not in found
    assert entries[2].id not in found
    assert store.get_many([entries[2].id]) == {}
    store.close()


def test_long_term_reindexes_a_record_whose_index_write_was_interrupted(tmp_path: Path) -> None:
    store = LanceTierStore(tmp_path / "lt", EMB.identity, EMB.dim)
    first, second = _entries(Tier.LONG_TERM)[:2]
    store.add(first)
    store.close()
    # Simulate a crash after the durable record was written but before LanceDB got the row.
    records = RecordTable(tmp_path / "lt" / "records.sqlite", EMB.identity)
    with records.transaction() as conn:
        records.insert(conn, second)
    records.close()

    reopened = LanceTierStore(tmp_path / "lt", EMB.identity, EMB.dim)
    hits = reopened.dense_search(np.asarray(second.embedding, dtype=np.float32), 1)
    assert hits[0][0] == second.id
    reopened.close()


def test_a_store_refuses_vectors_of_another_model(tmp_path: Path) -> None:
    SqliteTierStore(Tier.PERSISTENT, tmp_path / "core.sqlite", "model-a:384").close()
    with pytest.raises(StoreMismatchError, match="vector spaces never mix"):
        SqliteTierStore(Tier.PERSISTENT, tmp_path / "core.sqlite", "model-b:384")


@pytest.mark.parametrize("hostile", ['"', "*", "NEAR(", "a OR b AND NOT c", "col:value", "'; DROP TABLE memories; --"])
def test_full_text_queries_cannot_inject_syntax(hostile: str, tmp_path: Path) -> None:
    query = fts_query(hostile)
    assert query is None or all(part.startswith('"') for part in query.split(" OR "))
    store = SqliteTierStore(Tier.SHORT_TERM, tmp_path / "st.sqlite", EMB.identity)
    store.add(_entries(Tier.SHORT_TERM)[0])
    store.text_search(hostile, 5)  # must not raise
    assert store.count() == 1
    store.close()
