"""Versioned LoRA adapters under ``models/lora_adapter/``: an id, metrics and the dataset manifest each.

``registry.json`` lists every version in training order and names the active one; rollback makes the
version the active one was trained after active again and marks the abandoned one.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from personal_memory.plm.data import DatasetManifest
from personal_memory.plm.errors import AdapterError
from personal_memory.pms.schema import utcnow

REGISTRY_FILE = "registry.json"


class AdapterVersion(BaseModel):
    id: str
    created_at: datetime = Field(default_factory=utcnow)
    base_model: str
    path: Path
    mode: str = Field(description="How it was trained, e.g. 'lora fp32 (cpu)' or 'qlora nf4 (cuda)'")
    soft_targets: dict[str, int] = Field(default_factory=dict, description="distillation source -> examples")
    metrics: dict[str, float] = Field(default_factory=dict)
    dataset: DatasetManifest
    parent: str | None = Field(None, description="The version that was active when this one was trained")
    rolled_back: bool = False


class Registry(BaseModel):
    active: str | None = None
    versions: list[AdapterVersion] = Field(default_factory=list)


class AdapterRegistry:
    """Reads and writes ``registry.json`` atomically; one instance per command."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file = folder / REGISTRY_FILE

    def load(self) -> Registry:
        if not self._file.is_file():
            return Registry()
        return Registry.model_validate_json(self._file.read_text())

    def _save(self, registry: Registry) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(registry.model_dump_json(indent=2))
        os.replace(tmp, self._file)

    def next_id(self) -> str:
        return f"v{len(self.load().versions) + 1}-{utcnow():%Y%m%dT%H%M%S}"

    def active(self) -> AdapterVersion:
        registry = self.load()
        for version in registry.versions:
            if version.id == registry.active:
                return version
        raise AdapterError("No trained adapter yet: run `pmem train prepare` then `pmem train run`.")

    def add(self, version: AdapterVersion) -> None:
        """Record a new version and make it active."""
        registry = self.load()
        registry.versions.append(version.model_copy(update={"parent": registry.active}))
        registry.active = version.id
        self._save(registry)

    def record_metrics(self, version_id: str, metrics: dict[str, float]) -> None:
        registry = self.load()
        for version in registry.versions:
            if version.id == version_id:
                version.metrics.update(metrics)
        self._save(registry)

    def rollback(self) -> AdapterVersion:
        """Return to the version the active one was trained after; raise if there is none."""
        registry = self.load()
        current = self.active()
        if current.parent is None:
            raise AdapterError(f"Adapter {current.id} is the first version: there is nothing to roll back to.")
        for version in registry.versions:
            if version.id == current.id:
                version.rolled_back = True
        registry.active = current.parent
        self._save(registry)
        return self.active()
