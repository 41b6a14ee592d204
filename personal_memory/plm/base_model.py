"""The base model: a local Hugging Face folder, a GGUF file, or weights Ollama has pulled; always offline.

A GGUF source (a file, or the blob behind an Ollama model) is dequantised once by transformers and
saved as a plain Hugging Face folder under ``models/base/``: later loads take seconds, not tens of
seconds, and training, merging and 4-bit loading then treat every source the same way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from personal_memory.plm.errors import BaseModelError, TrainingDependencyError

OLLAMA_PREFIX = "ollama:"
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
SETUP_HINT = (
    "Set PMEM_BASE_MODEL (or base_model in config/default.toml) to a local Hugging Face model folder, "
    "a .gguf file, or ollama:NAME for a model `ollama pull` fetched; nothing is downloaded at run time."
)


class SourceKind(StrEnum):
    HF = "hf"
    GGUF = "gguf"
    OLLAMA = "ollama"


class BaseModelRef(BaseModel):
    """A resolved base model: ``path`` is the HF folder or the GGUF file."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: SourceKind
    path: Path

    @property
    def ollama_from(self) -> str:
        """What a Modelfile's ``FROM`` names for this base."""
        return self.name.removeprefix(OLLAMA_PREFIX) if self.kind is SourceKind.OLLAMA else str(self.path)


def default_ollama_dir() -> Path:
    return Path.home() / ".ollama" / "models"


def ollama_blob(name: str, models_dir: Path) -> Path:
    """The GGUF blob behind a pulled Ollama model, from its manifest (``name[:tag]``, tag ``latest``)."""
    model, _, tag = name.partition(":")
    parts = model.split("/")
    if len(parts) == 1:
        parts = ["registry.ollama.ai", "library", *parts]
    elif len(parts) == 2:
        parts = ["registry.ollama.ai", *parts]
    manifest = models_dir.joinpath("manifests", *parts, tag or "latest")
    if not manifest.is_file():
        raise BaseModelError(f"Ollama model {name!r} is not pulled here (no {manifest}). Run `ollama pull {name}`.")
    layers = json.loads(manifest.read_text()).get("layers", [])
    digest = next((layer["digest"] for layer in layers if layer.get("mediaType") == OLLAMA_MODEL_LAYER), None)
    blob = models_dir / "blobs" / str(digest).replace(":", "-")
    if digest is None or not blob.is_file():
        raise BaseModelError(f"Ollama model {name!r} has no model weights blob under {models_dir / 'blobs'}.")
    return blob


def resolve_base_model(ref: str | None, ollama_dir: Path | None = None) -> BaseModelRef:
    """Turn the configured name into a local source, or say clearly how to configure one."""
    if not ref or not ref.strip():
        raise BaseModelError(f"No base model is configured. {SETUP_HINT}")
    ref = ref.strip()
    if ref.startswith(OLLAMA_PREFIX):
        blob = ollama_blob(ref.removeprefix(OLLAMA_PREFIX), ollama_dir or default_ollama_dir())
        return BaseModelRef(name=ref, kind=SourceKind.OLLAMA, path=blob)
    path = Path(ref).expanduser().resolve()
    if path.is_file() and path.suffix == ".gguf":
        return BaseModelRef(name=ref, kind=SourceKind.GGUF, path=path)
    if path.is_dir() and (path / "config.json").is_file():
        return BaseModelRef(name=ref, kind=SourceKind.HF, path=path)
    raise BaseModelError(f"Base model {ref!r} was not found on this machine. {SETUP_HINT}")


def model_folder(base: BaseModelRef, cache: Path) -> Path:
    """A Hugging Face folder for ``base``: itself, or the cached plain copy of its GGUF weights."""
    if base.kind is SourceKind.HF:
        return base.path
    stat = base.path.stat()
    key = hashlib.sha256(f"{base.path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache / key
    if not (target / "config.json").is_file():
        _convert_gguf(base.path, target)
    return target


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise a GGUF file into a plain fp32 Hugging Face folder (written atomically)."""
    require_training_libraries()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    source = staging / "source"
    source.mkdir(parents=True)
    (source / "model.gguf").symlink_to(gguf)  # Ollama blobs have no .gguf suffix
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file="model.gguf", local_files_only=True)
    loaded = AutoModelForCausalLM.from_pretrained(source, gguf_file="model.gguf", local_files_only=True)
    # save_pretrained refuses a GGUF-loaded model: copy its weights into a fresh model of the same config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(loaded.state_dict())
    out = staging / "model"
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
    shutil.rmtree(target, ignore_errors=True)
    out.rename(target)
    shutil.rmtree(staging)


def require_training_libraries() -> None:
    try:
        import peft  # noqa: F401 - presence check only
        import transformers  # noqa: F401 - presence check only
    except ImportError as exc:
        raise TrainingDependencyError(
            "Training needs the `train` extra: run `pip install 'personal-memory[train]'`."
        ) from exc


def load_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(folder: Path, quantize_4bit: bool = False) -> Any:
    """The causal LM in ``folder``: 4-bit NF4 (bitsandbytes) when asked, else full precision."""
    import torch
    from transformers import AutoModelForCausalLM

    cuda = torch.cuda.is_available()
    device: Any = "cpu"
    if cuda:
        from personal_memory.plm.lora import process_state

        device = process_state().device  # under `accelerate launch`, this process's own GPU
    kwargs: dict[str, Any] = {"local_files_only": True}
    if quantize_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if cuda else torch.float32,
        )
        kwargs["device_map"] = {"": device}
    else:
        kwargs["dtype"] = torch.bfloat16 if cuda else torch.float32
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    if cuda and not quantize_4bit:
        model = model.to(device)
    return model
