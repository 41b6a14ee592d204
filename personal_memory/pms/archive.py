"""One portable archive of everything a user owns: ``pmem export`` writes it, ``pmem import`` restores it.

A zip file (streamed, so memory use stays flat) holding:

- ``manifest.json``: format version, embedding space, counts;
- ``memories.jsonl``: every memory of every tier, status and provenance included, with its embedding;
- ``interactions.jsonl``: the interaction log, oldest first;
- ``adapters.json``: the personal model's adapter registry (the list, not the weights).

Importing into a data dir skips memories whose id is already there, so it can be re-run safely. An
archive made with another embedding model is imported by re-embedding the memories.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ValidationError

from personal_memory.pms.errors import InvalidMemoryError
from personal_memory.pms.interaction_log import Interaction, InteractionLog
from personal_memory.pms.schema import MemoryEntry, utcnow
from personal_memory.pms.service import TIER_ORDER, MemoryService

ARCHIVE_FORMAT = "pmem-archive"
ARCHIVE_VERSION = 1
BATCH = 500
ADAPTER_REGISTRY = Path("lora_adapter") / "registry.json"
IMPORTED_ADAPTERS = Path("lora_adapter") / "imported_registry.json"


class Manifest(BaseModel):
    format: str = ARCHIVE_FORMAT
    version: int = ARCHIVE_VERSION
    created_at: datetime
    embedding: str
    memories: int
    interactions: int


@dataclass(frozen=True, slots=True)
class ImportReport:
    memories_added: int
    memories_skipped: int
    interactions_added: int
    reembedded: bool


def _write_line(stream: IO[bytes], data: str) -> None:
    stream.write(data.encode() + b"\n")


def export_archive(service: MemoryService, log: InteractionLog, target: Path) -> Manifest:
    """Write the archive to ``target`` (0600, replaced atomically)."""
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    memories = interactions = 0
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open("memories.jsonl", "w") as stream:
                for entry in _all_memories(service):
                    _write_line(stream, entry.model_dump_json())
                    memories += 1
            with archive.open("interactions.jsonl", "w") as stream:
                seq = 0
                while batch := list(log.read(after_seq=seq, limit=BATCH)):
                    for interaction in batch:
                        _write_line(stream, json.dumps(interaction.model_dump(mode="json")))
                    interactions += len(batch)
                    seq = batch[-1].seq
            registry = service.paths.models / ADAPTER_REGISTRY
            archive.writestr("adapters.json", registry.read_text() if registry.is_file() else "null")
            manifest = Manifest(
                created_at=utcnow(), embedding=service.embedder.identity, memories=memories, interactions=interactions
            )
            archive.writestr("manifest.json", manifest.model_dump_json(indent=2))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _all_memories(service: MemoryService) -> Any:
    for tier in TIER_ORDER:
        store = service.store(tier)
        ids = [e.id for e in store.iter_entries()]
        for start in range(0, len(ids), BATCH):
            found = store.get_many(ids[start : start + BATCH], with_embedding=True)
            yield from (found[i] for i in ids[start : start + BATCH] if i in found)


def read_manifest(source: Path) -> Manifest:
    try:
        with zipfile.ZipFile(source) as archive:
            manifest = Manifest.model_validate_json(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValidationError, OSError) as exc:
        raise InvalidMemoryError(f"{source} is not a pmem export archive ({exc}).") from exc
    if manifest.format != ARCHIVE_FORMAT or manifest.version > ARCHIVE_VERSION:
        raise InvalidMemoryError(
            f"{source} is archive format {manifest.format} v{manifest.version}; this pmem reads "
            f"{ARCHIVE_FORMAT} v{ARCHIVE_VERSION} or older: upgrade personal-memory."
        )
    return manifest


def import_archive(service: MemoryService, log: InteractionLog, source: Path) -> ImportReport:
    """Restore an archive into this data dir; memories already present (same id) are kept as they are."""
    manifest = read_manifest(source)
    reembed = manifest.embedding != service.embedder.identity
    added = skipped = 0
    with zipfile.ZipFile(source) as archive:
        with archive.open("memories.jsonl") as stream:
            batch: list[MemoryEntry] = []
            for line in stream:
                batch.append(MemoryEntry.model_validate(json.loads(line)))
                if len(batch) == BATCH:
                    added, skipped = _add_batch(service, batch, reembed, added, skipped)
                    batch = []
            added, skipped = _add_batch(service, batch, reembed, added, skipped)
        interactions = 0
        with archive.open("interactions.jsonl") as stream:
            for line in stream:
                item = Interaction.model_validate(json.loads(line))  # json: lone surrogates a client sent stay
                log.append(
                    item.ts, item.tool, item.arguments, item.result, item.memory_ids, item.error, item.teacher_model
                )
                interactions += 1
        adapters = archive.read("adapters.json")
    if adapters.strip() != b"null":
        target = service.paths.models / IMPORTED_ADAPTERS
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(adapters)
    return ImportReport(added, skipped, interactions, reembed)


def _add_batch(
    service: MemoryService, batch: list[MemoryEntry], reembed: bool, added: int, skipped: int
) -> tuple[int, int]:
    if not batch:
        return added, skipped
    if reembed:
        for entry, vector in zip(batch, service.embedder.embed([e.content for e in batch]), strict=True):
            entry.embedding = vector.tolist()
    with service.writing():
        present = {i for tier in TIER_ORDER for i in service.store(tier).get_many([e.id for e in batch])}
        for entry in batch:
            if entry.id in present:
                skipped += 1
                continue
            service.store(entry.tier).add(entry, expires_at=entry.expires_at.timestamp() if entry.expires_at else None)
            added += 1
    return added, skipped
