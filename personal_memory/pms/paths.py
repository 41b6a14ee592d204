"""Where everything lives under the data dir (SEED.md's directory structure)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DataPaths:
    home: Path

    @property
    def config_file(self) -> Path:
        return self.home / "config" / "default.toml"

    @property
    def short_term(self) -> Path:
        return self.home / "data" / "short_term" / "short_term.sqlite"

    @property
    def long_term(self) -> Path:
        return self.home / "data" / "long_term"

    @property
    def persistent(self) -> Path:
        return self.home / "data" / "persistent" / "core.sqlite"

    @property
    def interactions(self) -> Path:
        return self.home / "data" / "interactions.sqlite"

    @property
    def trainer(self) -> Path:
        """The sidecar trainer's cursor, queue and update history."""
        return self.home / "data" / "trainer.sqlite"

    @property
    def trainer_lock(self) -> Path:
        """Held by the one trainer process allowed to update the PLM at a time."""
        return self.home / "data" / ".trainer.lock"

    @property
    def write_lock(self) -> Path:
        return self.home / "data" / ".write.lock"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def embedder_cache(self) -> Path:
        return self.models / "embedder"

    def ensure(self) -> None:
        """Create the layout, private to the user: 0700 directories, and a 0077 umask for this process.

        The umask makes every file pmem (SQLite, LanceDB, the trainer) creates from now on 0600.
        """
        os.umask(0o077)
        for folder in (
            self.home,
            self.write_lock.parent,
            self.config_file.parent,
            self.short_term.parent,
            self.long_term,
            self.persistent.parent,
            self.models / "training_data",
            self.models / "checkpoints",
            self.models / "lora_adapter",
            self.models / "merged",
            self.embedder_cache,
        ):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o700)
