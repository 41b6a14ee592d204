"""Where the PLM keeps its files under ``PMEM_HOME/models`` (SEED.md's directory structure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PLMPaths:
    models: Path

    @property
    def training_data(self) -> Path:
        return self.models / "training_data"

    @property
    def checkpoints(self) -> Path:
        return self.models / "checkpoints"

    @property
    def lora_adapter(self) -> Path:
        """One folder per adapter version, plus ``registry.json`` naming the active one."""
        return self.models / "lora_adapter"

    @property
    def merged(self) -> Path:
        return self.models / "merged"

    @property
    def base_cache(self) -> Path:
        """Plain Hugging Face copies of GGUF bases, so later loads skip dequantisation."""
        return self.models / "base"

    @property
    def ollama(self) -> Path:
        return self.models / "ollama"
