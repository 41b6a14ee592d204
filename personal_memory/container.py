"""Composition root shared by the CLI and the server: settings -> embedder -> memory service."""

from __future__ import annotations

from personal_memory.config import Settings
from personal_memory.pms.embedding import LazyEmbedder
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.schema import utcnow
from personal_memory.pms.service import Clock, MemoryService


def build_embedder(settings: Settings) -> LazyEmbedder:
    return LazyEmbedder(
        settings.embedder,
        settings.embedder_cache or settings.paths.embedder_cache,
        settings.embedding_model_path,
        threads=settings.embedder_threads,
    )


def build_service(settings: Settings, clock: Clock | None = None) -> MemoryService:
    return MemoryService(settings.paths, build_embedder(settings), settings.service_options(), clock or utcnow)


def open_interaction_log(settings: Settings) -> InteractionLog:
    settings.paths.ensure()
    return InteractionLog(settings.paths.interactions)
