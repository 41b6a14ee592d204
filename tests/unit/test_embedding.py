"""The real embedder: int8 weights by default, fp32 on request, each its own vector space, exported once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from personal_memory.pms.embedding import (
    EMBEDDING_DIM,
    LazyEmbedder,
    OnnxMiniLMEmbedder,
    build_embedder,
    default_model_dir,
    identity_of,
    onnx_cache_path,
)
from personal_memory.pms.errors import EmbedderUnavailableError, StoreMismatchError
from personal_memory.pms.schema import Tier
from personal_memory.pms.stores.sqlite_tier import SqliteTierStore

TEXTS = [
    "I live in Lyon with my partner",
    "My sister Ana works as a nurse in Oslo",
    "I prefer tabs over spaces",
    "Last June we shipped the billing migration after six weeks of work",
    "I am allergic to shellfish",
    "I think remote work is more productive than office work",
]
QUERIES = ["Where do I live?", "What is my sister's job?", "Which indentation do I like?", "What am I allergic to?"]
ANSWERS = [0, 1, 2, 4]


def test_int8_and_fp32_are_two_spaces_of_one_model(real_embedder: OnnxMiniLMEmbedder, embedder_cache: Path) -> None:
    fp32 = build_embedder("onnx-fp32", embedder_cache)
    assert real_embedder.identity == identity_of("onnx") != fp32.identity == identity_of("onnx-fp32")
    quantised, exact = real_embedder.embed(TEXTS), fp32.embed(TEXTS)
    assert quantised.shape == (len(TEXTS), EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1.0, atol=1e-5)
    assert np.sum(quantised * exact, axis=1).min() > 0.99  # per-token int8: about 0.996 on average
    for embedder in (real_embedder, fp32):
        best = np.argmax(embedder.embed(QUERIES) @ embedder.embed(TEXTS).T, axis=1)
        assert best.tolist() == ANSWERS


def test_the_int8_file_is_cached_beside_the_export_it_was_made_from(embedder_cache: Path) -> None:
    exported = onnx_cache_path(embedder_cache, default_model_dir())
    quantised = onnx_cache_path(embedder_cache, default_model_dir(), quantized=True)
    assert exported.exists() and quantised.exists() and quantised != exported
    assert quantised.stat().st_size < exported.stat().st_size / 3


def test_a_store_of_fp32_vectors_is_refused_by_the_int8_embedder(tmp_path: Path) -> None:
    SqliteTierStore(Tier.SHORT_TERM, tmp_path / "st.sqlite", identity_of("onnx-fp32")).close()
    with pytest.raises(StoreMismatchError, match="never mix"):
        SqliteTierStore(Tier.SHORT_TERM, tmp_path / "st.sqlite", identity_of("onnx"))


def test_a_lazy_embedder_names_its_space_without_loading_the_model(tmp_path: Path) -> None:
    for kind in ("onnx", "onnx-fp32", "onnx-int8-dynamic", "hash"):
        assert LazyEmbedder(kind, tmp_path / "never-created").identity == identity_of(kind)
    assert not (tmp_path / "never-created").exists()
    with pytest.raises(EmbedderUnavailableError, match="onnx-fp32"):
        identity_of("minilm")


def test_bulk_embedding_returns_rows_in_input_order(real_embedder: OnnxMiniLMEmbedder) -> None:
    texts = [f"{text} {'and more words ' * (n % 7)}" for n, text in enumerate(TEXTS * 12)]  # several batches
    together = real_embedder.embed(texts)
    alone = np.vstack([real_embedder.embed([text]) for text in texts])
    assert np.allclose(together, alone, atol=1e-5)  # one text, one vector, whatever else is in the batch


def test_int8_scales_each_token_alone_so_batches_and_padding_change_nothing(
    real_embedder: OnnxMiniLMEmbedder,
) -> None:
    texts = [f"{text} {'and more words ' * (n % 5)}" for n, text in enumerate(TEXTS * 4)]
    padded = real_embedder._embed_batch(texts)  # one run, padded to the longest text
    alone = np.vstack([real_embedder._embed_batch([text]) for text in texts])
    assert np.allclose(padded, alone, atol=1e-5)


def test_auto_keeps_the_model_a_data_dir_was_made_with(tmp_path: Path) -> None:
    """A data dir from before int8 became the default keeps its fp32 vectors; a new one gets int8."""
    from personal_memory.config import Settings
    from personal_memory.container import embedder_kind
    from personal_memory.pms.paths import DataPaths

    old_home, new_home = tmp_path / "old", tmp_path / "new"
    SqliteTierStore(Tier.PERSISTENT, DataPaths(old_home).persistent, identity_of("onnx-fp32")).close()
    assert embedder_kind(Settings(home=old_home)) == "onnx-fp32"
    assert embedder_kind(Settings(home=new_home)) == "onnx"
    assert embedder_kind(Settings(home=old_home, embedder="onnx")) == "onnx"  # as configured: then refused


def test_auto_keeps_the_earlier_int8_model_for_its_data_dirs(tmp_path: Path) -> None:
    """A data dir made with the earlier int8 file (one activation scale per run) keeps it: its vectors differ."""
    from personal_memory.config import Settings
    from personal_memory.container import embedder_kind
    from personal_memory.pms.paths import DataPaths

    home = tmp_path / "home"
    SqliteTierStore(Tier.PERSISTENT, DataPaths(home).persistent, identity_of("onnx-int8-dynamic")).close()
    assert embedder_kind(Settings(home=home)) == "onnx-int8-dynamic"
    assert identity_of("onnx-int8-dynamic") != identity_of("onnx")


def test_the_earlier_int8_model_still_embeds_one_text_per_run(embedder_cache: Path) -> None:
    dynamic = build_embedder("onnx-int8-dynamic", embedder_cache)
    assert dynamic.identity == identity_of("onnx-int8-dynamic")
    assert onnx_cache_path(embedder_cache, default_model_dir(), dynamic=True).exists()
    together = dynamic.embed(TEXTS)
    alone = np.vstack([dynamic.embed([text]) for text in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.argmax(dynamic.embed(QUERIES) @ together.T, axis=1).tolist() == ANSWERS
