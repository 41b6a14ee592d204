"""Serving the PLM: generate with the adapter (transformers), merge it, or hand it to Ollama."""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personal_memory.plm.base_model import BaseModelRef, load_model, load_tokenizer
from personal_memory.plm.data import SYSTEM_PROMPT
from personal_memory.plm.evaluate import generate_answers


def load_with_adapter(base_folder: Path, adapter: Path, threads: int = 2) -> tuple[Any, Any]:
    """The base model in full precision with the LoRA adapter applied, and its tokenizer."""
    import torch
    from peft import PeftModel

    torch.set_num_threads(threads)
    model = PeftModel.from_pretrained(load_model(base_folder), adapter)
    model.eval()
    return model, load_tokenizer(base_folder)


@dataclass(slots=True)
class PersonalModel:
    """The base model plus the user's adapter, ready to answer."""

    model: Any
    tokenizer: Any

    @classmethod
    def load(cls, base_folder: Path, adapter: Path, threads: int = 2) -> PersonalModel:
        return cls(*load_with_adapter(base_folder, adapter, threads))

    def answer(self, question: str, max_new_tokens: int = 128) -> str:
        return generate_answers(self.model, self.tokenizer, [question], max_new_tokens)[0]


def merge_adapter(base_folder: Path, adapter: Path, target: Path, adapter_id: str) -> Path:
    """Fold the adapter into the base weights and save a standalone model folder at ``target``."""
    model, tokenizer = load_with_adapter(base_folder, adapter)
    merged = model.merge_and_unload()
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    merged.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / "pmem_merged.json").write_text(json.dumps({"adapter_id": adapter_id, "base": str(base_folder)}))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@dataclass(frozen=True, slots=True)
class OllamaExport:
    modelfile: Path
    command: str


def export_ollama(base: BaseModelRef, adapter: Path, folder: Path, model_name: str) -> OllamaExport:
    """Write a Modelfile (``FROM`` the base, ``ADAPTER`` the safetensors LoRA) and the command to load it."""
    folder.mkdir(parents=True, exist_ok=True)
    modelfile = folder / "Modelfile"
    modelfile.write_text(
        f"FROM {base.ollama_from}\n"
        f"ADAPTER {adapter.resolve()}\n"
        f'SYSTEM """{SYSTEM_PROMPT}"""\n'
        "PARAMETER temperature 0.2\n"
    )
    return OllamaExport(modelfile, f"ollama create {shlex.quote(model_name)} -f {shlex.quote(str(modelfile))}")
