"""The long-term tier on object storage: a real S3-compatible server (moto) on loopback, real LanceDB.

A data dir is configured with ``lancedb_uri = "s3://..."`` and a ``[lancedb_storage_options]`` table, promotes
memories into the remote table, recalls them, is moved to another machine (a restored ``pmem backup``) that finds
them without copying the table, and forgets one so that no object in the bucket keeps its text. A fresh data dir
pointed at the same table, a missing bucket and LanceDB Cloud are refused with errors that say what to do.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from personal_memory.config import load_settings
from personal_memory.container import build_service
from personal_memory.pms.backup import backup
from personal_memory.pms.errors import StoreMismatchError
from personal_memory.pms.promotion import PromotionEngine
from personal_memory.pms.schema import MemoryEntry, Tier
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery
from personal_memory.pms.stores.lance_tier import AnnPolicy, LanceTierStore, LongTermStorageError

SECRET_KEY = "moto-secret-key-do-not-log"
SECRET_TEXT = "zyxsecret my passport number"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on a free loopback port, for the whole module."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="moto-key",
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"pmem-{uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def _storage_options(endpoint: str) -> dict[str, str]:
    return {
        "aws_endpoint": endpoint,
        "aws_region": "us-east-1",
        "aws_access_key_id": "moto-key",
        "aws_secret_access_key": SECRET_KEY,
        "allow_http": "true",
    }


def _configure(home: Path, uri: str, endpoint: str) -> None:
    """Write the TOML a user would: the URI, and the options as a table (``allow_http`` as a TOML boolean)."""
    options = {**_storage_options(endpoint), "allow_http": True}
    table = "\n".join(f"{key} = {json.dumps(value)}" for key, value in options.items())
    home.joinpath("config").mkdir(parents=True, exist_ok=True)
    home.joinpath("config", "default.toml").write_text(
        f'embedder = "hash"\nlancedb_uri = "{uri}"\n\n[lancedb_storage_options]\n{table}\n'
    )


def _objects(s3: Any, bucket: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def _recall(service: MemoryService, text: str) -> list[MemoryEntry]:
    return [hit.entry for hit in service.recall(RecallQuery(text, limit=5))]


def test_a_data_dir_keeps_its_long_term_tier_on_object_storage(
    isolated_home: Path, tmp_path: Path, s3: Any, s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"s3://{bucket}/pmem/laptop"
    _configure(isolated_home, uri, s3_endpoint)
    settings = load_settings()
    assert settings.service_options().lancedb_storage_options["allow_http"] == "true"
    assert SECRET_KEY not in repr(settings) and SECRET_KEY not in repr(settings.service_options())

    service = build_service(settings)
    kept = [service.remember(NewMemory(content=text)).entry for text in ("I prefer tabs over spaces", SECRET_TEXT)]
    for entry in reversed(kept):  # the secret first: the later row is then folded into the index on forget
        service.validate(entry.id)
        assert [d.memory_id for d in PromotionEngine(service).run([entry.id])] == [entry.id]
    assert [e.tier for e in _recall(service, "tabs or spaces")][:1] == [Tier.LONG_TERM]
    assert not (isolated_home / "data" / "long_term" / "lancedb").exists()
    assert any(key.startswith("pmem/laptop/memories.lance/") for key in _objects(s3, bucket))

    # The data dir moves to another machine (a restored backup): the table stays in the bucket.
    moved = tmp_path / "desktop"
    backup(service, moved / "data")
    service.close()
    desktop = MemoryService(load_settings(home=moved).paths, service.embedder, settings.service_options())
    assert _recall(desktop, "tabs or spaces")[0].id == kept[0].id

    # A data dir of its own pointed at the same table is refused: it would index what it has no record of.
    stranger = MemoryService(load_settings(home=tmp_path / "other").paths, service.embedder, settings.service_options())
    with pytest.raises(StoreMismatchError, match="give each machine its own lancedb_uri"):
        stranger.recall(RecallQuery("tabs"))
    stranger.close()

    desktop.forget(kept[1].id)
    assert kept[1].id not in {e.id for e in _recall(desktop, "passport number")}
    objects = _objects(s3, bucket)
    assert [key for key, body in objects.items() if b"zyxsecret" in body] == [], "the text outlived forget"
    assert len([key for key in objects if "/memories.lance/_versions/" in key]) == 1  # old versions dropped
    desktop.close()


def test_storage_options_also_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_LANCEDB_URI", "s3://pmem-bucket/pmem")
    monkeypatch.setenv("PMEM_LANCEDB_STORAGE_OPTIONS", json.dumps({"aws_region": "eu-west-1", "allow_http": True}))
    options = load_settings().service_options()
    assert options.lancedb_uri == "s3://pmem-bucket/pmem"
    assert options.lancedb_storage_options == {"aws_region": "eu-west-1", "allow_http": "true"}


def test_an_unusable_location_is_refused_with_what_to_fix(tmp_path: Path, s3_endpoint: str, bucket: str) -> None:
    options = _storage_options(s3_endpoint)
    cases = [
        (f"s3://missing-{bucket}/pmem", options, "NoSuchBucket"),
        (f"s3://{bucket}/pmem", {k: v for k, v in options.items() if k != "allow_http"}, "allow_http"),
        (
            f"s3://{bucket}/pmem",
            {**options, "aws_endpoint": "http://127.0.0.1:9", "client_max_retries": "0"},
            "refused the connection",
        ),
    ]
    for n, (uri, opts, reason) in enumerate(cases):
        with pytest.raises(LongTermStorageError, match=reason) as refused:
            LanceTierStore(tmp_path / str(n), "hash:384", 384, uri, storage_options=opts)
        assert "lancedb_storage_options" in str(refused.value) and SECRET_KEY not in str(refused.value)
    with pytest.raises(LongTermStorageError, match="LanceDB Cloud"):
        LanceTierStore(tmp_path / "cloud", "hash:384", 384, "db://my-project")


def test_the_ann_index_is_built_and_searched_on_object_storage(tmp_path: Path, s3_endpoint: str, bucket: str) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(600, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    entries = [
        MemoryEntry(content=f"memory {i}", tier=Tier.LONG_TERM, embedding=v.tolist()) for i, v in enumerate(vectors)
    ]
    store = LanceTierStore(
        tmp_path,
        "test:32",
        32,
        f"s3://{bucket}/ann",
        AnnPolicy(min_rows=500, refresh_rows=10**9),
        storage_options=_storage_options(s3_endpoint),
    )
    store.add_many(entries)
    report = store.optimize()
    assert report.ann_index and report.unindexed_rows == 0
    hits = store.dense_search_many(vectors[:20], 1)
    assert np.mean([got[0][0] == e.id for got, e in zip(hits, entries[:20], strict=True)]) >= 0.95
    store.close()


def test_a_table_from_before_the_owner_mark_is_adopted(tmp_path: Path) -> None:
    import lancedb
    import pyarrow as pa

    vector = np.ones(8, dtype=np.float32) / np.sqrt(8)
    schema = pa.schema([("id", pa.string()), ("content", pa.string()), ("vector", pa.list_(pa.float32(), 8))])
    lancedb.connect(tmp_path / "lancedb").create_table("memories", schema=schema)
    store = LanceTierStore(tmp_path, "test:8", 8)
    store.add(MemoryEntry(content="older data dir", tier=Tier.LONG_TERM, embedding=vector.tolist()))
    assert len(store.dense_search(vector, 5)) == 1
    store.close()
