"""The long-term tier's index management: LanceDB opened only when needed, an ANN index once large."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from uuid import UUID

import numpy as np
import pytest

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.schema import MemoryEntry, Tier
from personal_memory.pms.service import MemoryService, NewMemory
from personal_memory.pms.stores.lance_tier import AnnPolicy, LanceTierStore

EMB = HashEmbedder()

EMPTY_TIER = """
import sys
from pathlib import Path
import numpy as np
import pytest
from personal_memory.pms.stores.lance_tier import LanceTierStore
store = LanceTierStore(Path(sys.argv[1]), "hash-bow:384", 384)
assert store.dense_search(np.ones(384, dtype=np.float32), 5) == [] and store.text_search("tea", 5) == []
assert store.optimize().rows == 0
store.close()
print("lancedb" in sys.modules)
"""


def _clustered(count: int, dim: int = 384, seed: int = 3) -> np.ndarray:
    """Vectors around 50 topics, like embeddings of real memories (uniform noise has no neighbours to find)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    vectors = centres[rng.integers(0, 50, count)] + 0.6 * rng.normal(size=(count, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _entries(vectors: np.ndarray) -> list[MemoryEntry]:
    return [
        MemoryEntry(content=f"memory number {i}", tier=Tier.LONG_TERM, embedding=v.tolist())
        for i, v in enumerate(vectors)
    ]


def test_an_empty_long_term_tier_answers_without_importing_lancedb(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", EMPTY_TIER, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_first_rows_of_a_fresh_tier_are_indexed_once(tmp_path: Path) -> None:
    store = LanceTierStore(tmp_path, EMB.identity, EMB.dim)
    entries = _entries(_clustered(5))
    store.add_many(entries)
    hits = store.dense_search(np.asarray(entries[0].embedding, dtype=np.float32), 10)
    assert sorted(i for i, _ in hits) == sorted(e.id for e in entries)
    store.close()


def test_optimize_builds_an_ann_index_as_accurate_as_exact_search(tmp_path: Path) -> None:
    vectors = _clustered(3000)
    store = LanceTierStore(tmp_path, EMB.identity, EMB.dim, ann=AnnPolicy(min_rows=2000, refresh_rows=10**9))
    entries = _entries(vectors)
    store.add_many(entries)
    report = store.optimize()
    assert report.ann_index and report.rows == 3000 and report.unindexed_rows == 0
    probes = vectors[:40]
    found = store.dense_search_many(probes, 10)
    row_of = {e.id: row for row, e in enumerate(entries)}
    exact = [set(np.argsort(-(vectors @ p))[:10].tolist()) for p in probes]
    recall = np.mean([len(e & {row_of[i] for i, _ in got}) / 10 for e, got in zip(exact, found, strict=True)])
    assert recall >= 0.95
    store.close()


def test_a_batch_relates_its_own_memories_as_one_by_one_remember_would(fake_service: MemoryService) -> None:
    outcomes = fake_service.remember_many(
        [NewMemory("I live in Lyon"), NewMemory("I live in Berlin"), NewMemory("I live in Lyon")]
    )
    first, second, repeat = outcomes
    assert first.created and second.created and not repeat.created
    assert second.contradicts == [first.entry.id]
    assert repeat.entry.id == first.entry.id
    stored = fake_service.find(first.entry.id)
    assert stored.contradicts == [second.entry.id] and stored.confidence.corroboration_count == 1
    assert fake_service.stats()["short_term"]["active"] == 2


def test_pmem_optimize_reports_the_long_term_index(isolated_home: Path) -> None:
    from click.testing import CliRunner

    from personal_memory.cli import main

    done = CliRunner().invoke(main, ["optimize", "--json"], env={"PMEM_EMBEDDER": "hash"})
    assert done.exit_code == 0, done.output
    assert '"ann_index": false' in done.output and '"rows": 0' in done.output


def test_single_searches_match_batched_ones_see_other_writers_and_stay_quiet(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Recall's one-vector path (the Lance dataset, directly) answers as the batched LanceDB path does."""
    vectors = _clustered(2500)
    store = LanceTierStore(tmp_path, EMB.identity, EMB.dim, ann=AnnPolicy(min_rows=2000, refresh_rows=10**9))
    entries = _entries(vectors)
    store.add_many(entries[:2400])
    for built in (False, True):
        if built:
            assert store.optimize().ann_index
        batched = store.dense_search_many(vectors[:5], 10)
        for probe, expected in zip(vectors[:5], batched, strict=True):
            single = store.dense_search(probe, 10)
            assert [i for i, _ in single] == [i for i, _ in expected]
            assert np.allclose([s for _, s in single], [s for _, s in expected], atol=1e-5)
    other = LanceTierStore(tmp_path, EMB.identity, EMB.dim)  # another process's store on the same data dir
    newcomer = MemoryEntry(content="a zeppelin over the harbour", tier=Tier.LONG_TERM, embedding=vectors[2400].tolist())
    other.add_many([newcomer])
    other.close()
    assert store.dense_search(vectors[2400], 1)[0][0] == newcomer.id
    assert store.text_search("zeppelin", 5)[0][0] == newcomer.id
    store.close()
    assert "WARN" not in capfd.readouterr().err


POPULATED_TIER = """
import sys
from pathlib import Path
import numpy as np
from personal_memory.pms.stores.lance_tier import LanceTierStore
store = LanceTierStore(Path(sys.argv[1]), "hash-bow:384", 384)
assert store.dense_search(np.ones(384, dtype=np.float32), 5) and store.text_search("memory number 3", 5)
store.close()
print("lancedb" in sys.modules)
"""


def test_a_populated_tier_is_searched_without_importing_lancedb(tmp_path: Path) -> None:
    """Importing LanceDB takes 1-2.5 s: a new server's first recall reads the table with Lance alone."""
    store = LanceTierStore(tmp_path, EMB.identity, EMB.dim)
    store.add_many(_entries(_clustered(20)))
    store.close()
    done = subprocess.run(
        [sys.executable, "-c", POPULATED_TIER, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_an_ivf_pq_index_of_an_older_version_is_searched_then_rebuilt_as_ivf_sq(tmp_path: Path) -> None:
    from lancedb.index import IvfPq

    vectors = _clustered(2500)
    policy = AnnPolicy(min_rows=2000, refresh_rows=10**9)
    store = LanceTierStore(tmp_path, EMB.identity, EMB.dim, ann=policy)
    store.add_many(_entries(vectors))
    store._table().create_index("vector", config=IvfPq(distance_type="cosine", num_sub_vectors=24), name="vector_idx")
    store.close()
    store = LanceTierStore(tmp_path, EMB.identity, EMB.dim, ann=policy)
    exact = set(np.argsort(-(vectors @ vectors[7]))[:10].tolist())
    rows = {e.id: int(e.content.rsplit(" ", 1)[1]) for e in store.iter_entries()}  # "memory number <row>"
    assert len(exact & {rows[i] for i, _ in store.dense_search(vectors[7], 10)}) >= 9  # re-scored exactly
    assert store.optimize().ann_index
    kinds = {d.index_type for d in store._dataset().describe_indices()}
    assert kinds == {"IVF_SQ", "Inverted"}
    store.close()


@pytest.mark.parametrize("rescore_rows", [2500, 10**9])
def test_a_large_table_is_searched_with_exact_distances(tmp_path: Path, rescore_rows: int) -> None:
    """From ``rescore_rows`` on, the 8-bit distances of the index are replaced by exact ones (recall@10 at 1M
    went from 0.94-0.975 to 1.0); a smaller table keeps the quantised distances, and their speed."""
    vectors = _clustered(3000)
    policy = AnnPolicy(min_rows=2000, refresh_rows=10**9, rescore_rows=rescore_rows)
    store = LanceTierStore(tmp_path, EMB.identity, EMB.dim, ann=policy)
    entries = _entries(vectors)
    store.add_many(entries)
    assert store.optimize().ann_index
    row_of = {e.id: row for row, e in enumerate(entries)}

    def error(found: list[tuple[UUID, float]], probe: np.ndarray) -> float:
        return max(abs(score - float(vectors[row_of[i]] @ probe)) for i, score in found)

    reopened = LanceTierStore(tmp_path, EMB.identity, EMB.dim, ann=policy)  # a new process decides the same
    for probe in vectors[:20]:
        for found in (
            store.dense_search(probe, 10),
            store.dense_search_many(probe[None, :], 10)[0],
            reopened.dense_search(probe, 10),
        ):
            assert error(found, probe) < 1e-5 if rescore_rows == 2500 else error(found, probe) > 1e-5
    store.close()
    reopened.close()


def test_the_index_gets_a_partition_per_thousand_rows_up_to_a_cap() -> None:
    """LanceDB's default (about 8,000 rows a partition) left 11 at 100k: every search was a full scan."""
    policy = AnnPolicy()
    assert [policy.partitions(rows) for rows in (500, 10_000, 100_000, 1_000_000)] == [1, 10, 100, 128]
    assert policy.nprobes < policy.partitions(1_000_000)  # a large table is probed, not scanned
