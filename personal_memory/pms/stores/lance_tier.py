"""The long-term tier: LanceDB for vector and full-text search, SQLite for the durable records.

LanceDB holds only what it searches (id, content, vector). Each record's mutable metadata (access
counts, confidence, relations, status) lives in ``records.sqlite`` beside it, so recall's access-count
updates never create LanceDB versions. The records file is the source of truth: a record whose
index row was not written (a crash between the two writes) is re-indexed from its stored embedding
when the store opens.

LanceDB opens lazily, on the first long-term row: importing it costs 1-2 s, which a fresh server's
first recall should not pay; searches read the table with Lance alone. Once the table is large, an ANN
index (IVF_SQ: 8-bit scalar-quantised vectors in IVF partitions) replaces the flat scan; ``optimize`` builds
it (and rebuilds an IVF_PQ index of an older version, which needed an exact re-scoring step), folds new rows
into it, retrains it once the table has outgrown it, and runs in the background once enough rows were
added since the last run.

The table may live on object storage (``s3://``, ``gs://``, ``az://`` with LanceDB's ``storage_options``). It
belongs to one data dir, whose records it indexes: its schema carries that data dir's id, and another data dir
opening it is refused (its searches would return rows it has no record of, and its ``forget --all`` would
empty the other's index).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import numpy as np

from personal_memory.pms.errors import PMSError, StoreMismatchError
from personal_memory.pms.ports import ScoredId
from personal_memory.pms.schema import MemoryEntry, Tier
from personal_memory.pms.stores.sqlite_records import RecordTable

if TYPE_CHECKING:
    import lance
    import lancedb

logger = logging.getLogger(__name__)

TABLE = "memories"
VECTOR_INDEX = "vector_idx"
OWNER_KEY = "pmem.data_dir"  # schema metadata: the id of the data dir whose records the table indexes
OWNER_FILE = "lancedb_owner"  # that id, in the data dir
_WORD = re.compile(r"\w+", re.UNICODE)
_SECRET_OPTION = re.compile(r"secret|token|password|key_id|access_key|sas|credential", re.IGNORECASE)
_S3_ERROR_CODE = re.compile(r"<Code>(\w+)</Code>")


class LongTermStorageError(PMSError, OSError):
    """The long-term tier's LanceDB location cannot be used (unreachable, refused, or unsupported)."""


@dataclass(frozen=True, slots=True)
class AnnPolicy:
    """When the table gets an ANN index and how it is searched; ``bench/scale.py`` measured these values.

    ``nprobes`` partitions are scanned. With 8-bit scalar quantisation the distances are close to exact:
    at 100k memories, recall@10 against exact search was 0.95-0.98 for real queries at 150 results, where
    IVF_PQ (16 dimensions a byte) needed an exact re-scoring of 3x the results to reach 0.92 and was slower.
    What is lost is order, not reach (more probes changed nothing): at 1M, recall@10 was 0.94-0.975
    depending on the index build, and 1.000 once the fetched results were re-scored with exact distances,
    for 3 ms a search. So tables of ``rescore_rows`` or more are re-scored; smaller ones keep the 3 ms.
    Partitions: at 100k, 100 partitions and 40 probes reach the recall of scanning all of them (0.963) in
    3.3 ms instead of 5.0; at 1M, 128 partitions keep the reach LanceDB's default (121) measured.
    """

    min_rows: int = 10_000  # below this a flat scan is fast enough and an index would be poorly trained
    nprobes: int = 40
    rows_per_partition: int = 1_000  # LanceDB's default (about 8,000) left 11 partitions at 100k: a full scan
    max_partitions: int = 128
    legacy_refine_rows: int = 300  # an IVF_PQ index (older versions) re-scores this many exactly until rebuilt
    rescore_rows: int = 500_000  # from this many rows on, the results of an IVF_SQ search are re-scored exactly
    retrain_growth: float = 4.0  # rebuild (retrain) the index once the table is this many times its trained size
    refresh_rows: int = 5_000  # rows added since the last run that start a background ``optimize``

    def partitions(self, rows: int) -> int:
        """IVF partitions for an index trained on ``rows`` rows."""
        return max(1, min(rows // self.rows_per_partition, self.max_partitions))

    def rescores(self, rows: int) -> bool:
        """Whether an IVF_SQ search of a table of ``rows`` rows re-scores its results with exact distances."""
        return rows >= self.rescore_rows


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What ``optimize`` did: rows in the table, whether the ANN index exists, and its cost."""

    rows: int
    ann_index: bool
    unindexed_rows: int
    seconds: float


class LanceTierStore:
    tier = Tier.LONG_TERM

    def __init__(
        self,
        directory: Path,
        embedding_identity: str,
        dim: int,
        uri: str | None = None,
        ann: AnnPolicy | None = None,
        storage_options: Mapping[str, str] | None = None,
    ) -> None:
        if uri is not None and uri.startswith("db://"):
            raise LongTermStorageError(
                f"lancedb_uri {uri!r} is LanceDB Cloud, which pmem does not support: forgetting rewrites the "
                "table's files, which only a folder or object storage (s3://, gs://, az://) allows."
            )
        self._records = RecordTable(directory / "records.sqlite", embedding_identity)
        self._uri = uri or str(directory / "lancedb")
        self._storage_options = dict(storage_options or {})
        self._directory = directory
        self._dim = dim
        self.ann = ann or AnnPolicy()
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._optimize_lock = threading.Lock()  # one optimisation at a time; writers never wait for it
        self._lance: lancedb.table.Table | None = None
        self._lance_dataset: lance.LanceDataset | None = None
        self._checked_version: int | None = None
        self._has_fts = False
        self._has_ann = False
        self._legacy_ann = False
        self._rescore = False  # search results are re-scored with exact distances (see AnnPolicy)
        self._added_since_optimize = 0
        self._maintenance: threading.Thread | None = None
        if uri or self._records.count():  # a remote table may hold rows this file does not know of
            try:
                self._table() if uri else self._dataset()
            except Exception:
                self._records.close()  # the caller gets no store to close
                raise

    # the LanceDB table, opened on first need ------------------------------------------------------

    def _table(self) -> lancedb.table.Table:
        if self._lance is not None:
            return self._lance
        with self._open_lock:
            if self._lance is None:
                import lancedb
                import pyarrow as pa

                owner = self._owner_id()
                schema = pa.schema(
                    [
                        pa.field("id", pa.string()),
                        pa.field("content", pa.string()),
                        pa.field("vector", pa.list_(pa.float32(), self._dim)),
                    ],
                    metadata={OWNER_KEY: owner},
                )
                try:
                    db = lancedb.connect(
                        self._uri, read_consistency_interval=timedelta(0), storage_options=self._storage_options or None
                    )
                    table = self._open_or_create(db, schema)
                    dataset = table.to_lance()
                except (OSError, ValueError, RuntimeError) as exc:
                    raise LongTermStorageError(self._explain(exc)) from exc
                self._check_owner(dataset)
                self._read_indexes(dataset)
                self._lance = table
                self._reindex_missing()
        assert self._lance is not None
        return self._lance

    @staticmethod
    def _open_or_create(db: Any, schema: Any) -> lancedb.table.Table:
        """The table as it is (one from before the owner mark has none), or a new one; when another process
        creates it at the same moment, the loser of that race opens the winner's."""
        if TABLE in db.list_tables().tables:
            return db.open_table(TABLE)
        try:
            return db.create_table(TABLE, schema=schema, exist_ok=True)
        except (OSError, ValueError, RuntimeError):
            if TABLE not in db.list_tables().tables:
                raise
            return db.open_table(TABLE)

    def _check_owner(self, dataset: lance.LanceDataset) -> None:
        """Refuse a table that indexes another data dir's records (one from before the owner mark has none)."""
        found = (dataset.schema.metadata or {}).get(OWNER_KEY.encode())
        owner = self._owner_id()
        if found is not None and found.decode() != owner:
            raise StoreMismatchError(
                f"The long-term LanceDB table at {self._uri} indexes another pmem data dir's memories "
                f"(data dir id {found.decode()}; this one, {self._directory}, is {owner}). A table "
                "belongs to one data dir: give each machine its own lancedb_uri (e.g. "
                "s3://bucket/pmem/<machine>), or move that data dir here instead of starting a new one."
            )

    def _read_indexes(self, dataset: lance.LanceDataset) -> None:
        """Which indexes the table has now (another process may have built one)."""
        kinds = {index.index_type for index in dataset.describe_indices()}
        self._has_fts = "Inverted" in kinds
        self._has_ann = bool(kinds - {"Inverted"})
        self._legacy_ann = "IVF_PQ" in kinds
        self._rescore = self._legacy_ann or (self._has_ann and self.ann.rescores(dataset.count_rows()))

    def _owner_id(self) -> str:
        """This data dir's id, created once (atomically: concurrent first openers agree on one)."""
        path = self._directory / OWNER_FILE
        if not path.exists():
            draft = path.with_name(f".{OWNER_FILE}.{uuid4().hex}")
            draft.write_text(uuid4().hex)
            try:
                os.link(draft, path)  # fails if another process got there first: its id wins
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()

    def _explain(self, exc: Exception) -> str:
        """What went wrong opening the table, briefly, without the storage options' secrets."""
        text = str(exc)
        code = _S3_ERROR_CODE.search(text)
        if code:
            reason = f"the object store answered {code.group(1)}"
        elif "BadScheme" in text:
            reason = 'the endpoint is http://, which needs allow_http = "true" in lancedb_storage_options'
        elif "ConnectionRefused" in text:
            reason = "the endpoint refused the connection"
        else:
            reason = text.splitlines()[0][:300] if text else type(exc).__name__
        for key, value in self._storage_options.items():
            if value and _SECRET_OPTION.search(key):
                reason = reason.replace(value, "***")
        return (
            f"Cannot open the long-term LanceDB table at {self._uri}: {reason}. Check lancedb_uri "
            "(PMEM_LANCEDB_URI) and, for object storage, that the bucket exists and lancedb_storage_options "
            "(PMEM_LANCEDB_STORAGE_OPTIONS, or AWS_* / GOOGLE_* / AZURE_* variables) give its endpoint, region "
            "and credentials."
        )

    def open(self) -> None:
        """Open the LanceDB table now (importing LanceDB takes 1-2 s), so no later call waits for it."""
        self._table()

    def _searchable(self) -> bool:
        """Whether the table may hold rows; an empty tier is answered without importing Lance."""
        if self._lance is not None or self._lance_dataset is not None:
            return True
        version = self._records.data_version()  # changes when any process commits to the records file
        if version != self._checked_version:
            self._checked_version = version
            if self._records.count():
                self._dataset()
        return self._lance_dataset is not None

    def _reindex_missing(self) -> None:
        pending = self._records.unindexed()
        if not pending:
            return
        present = self._present_ids([e.id for e in pending])
        missing = [e for e in pending if e.id not in present]
        if missing:
            logger.info("Re-indexing %d long-term memories after an interrupted write", len(missing))
            self._index(missing)
        self._records.mark_indexed([e.id for e in pending])

    def _present_ids(self, ids: list[UUID]) -> set[UUID]:
        if not ids:
            return set()
        quoted = ",".join(f"'{i}'" for i in ids)  # UUIDs only: nothing to escape
        rows = self._table().search().where(f"id IN ({quoted})").select(["id"]).limit(len(ids)).to_list()
        return {UUID(r["id"]) for r in rows}

    def _index(self, entries: list[MemoryEntry]) -> None:
        rows: list[dict[str, Any]] = [
            {"id": str(e.id), "content": e.content, "vector": np.asarray(e.embedding, dtype=np.float32)}
            for e in entries
        ]
        table = self._table()
        with self._lock:
            table.add(rows)
            if not self._has_fts:
                from lancedb.index import FTS

                table.create_index("content", config=FTS(with_position=False), replace=True)
                self._has_fts = True
            self._added_since_optimize += len(rows)
            due = self._added_since_optimize >= self.ann.refresh_rows
        if due:
            self._optimize_in_background()

    # writes ---------------------------------------------------------------------------------------

    def add(self, entry: MemoryEntry, expires_at: float | None = None) -> None:
        self.add_many([entry])

    def add_many(self, entries: list[MemoryEntry]) -> None:
        self._table()  # opening re-indexes interrupted writes: before these records join the unindexed ones
        with self._records.transaction() as conn:
            for entry in entries:
                self._records.insert(conn, entry)
        self._index(entries)
        self._records.mark_indexed([e.id for e in entries])

    def supersede(self, old: MemoryEntry, new: MemoryEntry, expires_at: float | None = None) -> bool:
        self._table()
        with self._records.transaction() as conn:
            if not self._records.supersede(conn, old, new):
                return False
        self._index([new])
        self._records.mark_indexed([new.id])
        return True

    def update(self, entry: MemoryEntry) -> bool:
        with self._records.transaction() as conn:
            return self._records.update(conn, entry)

    def update_many(self, entries: list[MemoryEntry]) -> int:
        if not entries:
            return 0
        with self._records.transaction() as conn:
            return sum(self._records.update(conn, entry) for entry in entries)

    def remove(self, memory_id: UUID) -> bool:
        with self._records.transaction() as conn:
            found = self._records.delete(conn, memory_id)
        if not self._lance_present():
            return found
        with self._lock:
            self._table().delete(f"id = '{memory_id}'")
        if found:
            self._records.scrub()
            self._purge_deleted()
        return found

    def clear(self) -> int:
        with self._records.transaction() as conn:
            count = self._records.clear(conn)
        if self._lance_present():
            with self._lock:
                self._table().delete("true")
            self._purge_deleted()
        self._records.scrub()
        return count

    def _lance_present(self) -> bool:
        """Whether a LanceDB table was ever written here (deletes must reach it even if the records are gone)."""
        return self._lance is not None or Path(self._uri, f"{TABLE}.lance").exists()

    def _purge_deleted(self) -> None:
        """Rewrite fragments holding deleted rows and drop every old version, so deleted text leaves the disk."""
        table = self._table()
        with self._lock:
            table.to_lance().optimize.compact_files(materialize_deletions_threshold=0.0)
            table.optimize()  # folds rows into the indexes, which may commit a version of its own: clean up after
            # Dropping every old version is the point here; writers are excluded by the service's write lock.
            table.to_lance().cleanup_old_versions(older_than=timedelta(0))

    # reads ----------------------------------------------------------------------------------------

    def get_many(self, ids: list[UUID], with_embedding: bool = False) -> dict[UUID, MemoryEntry]:
        return self._records.get_many(ids, with_embedding)

    def find_by_hash(self, content_hash: str) -> MemoryEntry | None:
        return self._records.find_by_hash(content_hash)

    def dense_search(self, vector: np.ndarray, limit: int) -> list[ScoredId]:
        return self.dense_search_many(vector[None, :], limit)[0]

    def dense_search_many(self, vectors: np.ndarray, limit: int) -> list[list[ScoredId]]:
        out: list[list[ScoredId]] = [[] for _ in range(len(vectors))]
        if not len(vectors) or not self._searchable():
            return out
        queries = vectors.astype(np.float32)
        if len(queries) == 1:  # recall: one vector, searched on the dataset directly
            dataset = self._dataset()
            nearest = {"column": "vector", "q": queries[0], "k": limit, "metric": "cosine"}
            if self._has_ann:
                nearest |= {"nprobes": self.ann.nprobes}
            if self._rescore:
                nearest |= {"refine_factor": self._refine_factor(limit)}
            rows = dataset.to_table(columns=["id", "_distance"], nearest=nearest).to_pylist()
            out[0] = [(UUID(row["id"]), 1.0 - float(row["_distance"])) for row in rows]
            return out
        query = (  # a batch (ingestion): LanceDB runs the queries in parallel
            self._table()
            .search(list(queries), vector_column_name="vector")
            .distance_type("cosine")
            .select(["id", "_distance"])
            .limit(limit)
        )
        if self._has_ann:
            query = query.nprobes(self.ann.nprobes)
        if self._rescore:
            query = query.refine_factor(self._refine_factor(limit))
        for row in query.to_list():
            out[row.get("query_index", 0)].append((UUID(row["id"]), 1.0 - float(row["_distance"])))
        return out

    def _refine_factor(self, limit: int) -> int:
        """IVF_PQ: re-score ``legacy_refine_rows`` candidates; IVF_SQ: re-score the results themselves."""
        return max(1, -(-self.ann.legacy_refine_rows // limit)) if self._legacy_ann else 1

    def text_search(self, query: str, limit: int) -> list[ScoredId]:
        words = _WORD.findall(query.lower())
        if not words or not self._searchable():
            return []
        dataset = self._dataset()
        if not self._has_fts:
            return []
        table = dataset.to_table(columns=["id", "_score"], full_text_query=" ".join(words), limit=limit)
        return [(UUID(r["id"]), float(r["_score"])) for r in table.to_pylist()]

    def _dataset(self) -> lance.LanceDataset:
        """The table's Lance dataset at its latest version (any process's writes included).

        Recall searches it directly: LanceDB's query builder costs about 3x the search itself at 100k rows
        (schema reads and a round trip through its event loop per call); the results are the same.
        """
        dataset = self._lance_dataset
        if dataset is None:
            dataset = self._open_dataset()
        elif dataset.latest_version != dataset.version:
            dataset = dataset.checkout_version(dataset.latest_version)
            self._read_indexes(dataset)
        self._lance_dataset = dataset
        return dataset

    def _open_dataset(self) -> lance.LanceDataset:
        """Open the table with Lance alone (0.3-0.5 s to import, against 1-2.5 s for LanceDB), so a new
        server's first recall does not wait for LanceDB; rows left unindexed by a crash need LanceDB's writer."""
        if self._lance is not None or self._records.unindexed():
            return self._table().to_lance()
        import lance

        try:
            dataset = lance.dataset(f"{self._uri}/{TABLE}.lance", storage_options=self._storage_options or None)
        except (OSError, ValueError):  # no table yet (its records were written, then the crash): LanceDB makes it
            return self._table().to_lance()
        self._check_owner(dataset)
        self._read_indexes(dataset)
        return dataset

    def count(self, status: str | None = None) -> int:
        return self._records.count(status)

    def iter_entries(self) -> Iterator[MemoryEntry]:
        return self._records.iter_entries()

    def expired_ids(self, now_ts: float) -> list[UUID]:
        return self._records.expired_ids(now_ts)

    # index maintenance ----------------------------------------------------------------------------

    def optimize(self) -> IndexReport:
        """Build the ANN index once the table is large, fold new rows into every index, compact, drop old versions."""
        start = time.perf_counter()
        if not self._searchable():
            return IndexReport(rows=0, ann_index=False, unindexed_rows=0, seconds=0.0)
        table = self._table()
        with self._optimize_lock:
            with self._lock:
                self._added_since_optimize = 0
            rows = table.count_rows()
            trained = self._trained_rows()
            outgrown = 0 < trained * self.ann.retrain_growth <= rows
            if rows >= self.ann.min_rows and (not self._has_ann or outgrown or self._legacy_ann):
                from lancedb.index import IvfSq

                # Training reads a sample and commits a new index version: writers need not wait for it.
                config = IvfSq(distance_type="cosine", num_partitions=self.ann.partitions(rows))
                table.create_index("vector", config=config, name=VECTOR_INDEX, replace=True)
                self._trained_file().write_text(str(rows))
                self._has_ann, self._legacy_ann = True, False
                self._rescore = self.ann.rescores(rows)
            with self._lock:
                table.optimize(cleanup_older_than=timedelta(hours=1))
            stats = table.index_stats(VECTOR_INDEX) if self._has_ann else None
        unindexed = stats.num_unindexed_rows if stats is not None else rows
        return IndexReport(rows, self._has_ann, unindexed, time.perf_counter() - start)

    def _trained_file(self) -> Path:
        return self._directory / "ann_trained_rows"

    def _trained_rows(self) -> int:
        """Rows the ANN index was trained on (its partitions fit that size); 0 when unknown."""
        try:
            return int(self._trained_file().read_text())
        except (OSError, ValueError):
            return 0

    def _optimize_in_background(self) -> None:
        with self._lock:
            if self._maintenance is not None and self._maintenance.is_alive():
                return
            self._maintenance = threading.Thread(target=self._optimize_logged, name="pmem-lance-optimize", daemon=True)
            self._maintenance.start()

    def _optimize_logged(self) -> None:
        try:
            report = self.optimize()
            logger.info("Long-term index: %s", report)
        except Exception:  # a background task's top-level handler: the next run retries
            logger.exception("Background optimisation of the long-term index failed")

    def close(self) -> None:
        maintenance = self._maintenance
        if maintenance is not None:
            maintenance.join()
        self._records.close()
