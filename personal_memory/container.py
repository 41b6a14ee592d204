"""Composition root shared by the CLI and the server: settings -> embedder -> memory service -> PLM."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from personal_memory.config import Settings
from personal_memory.pms.embedding import LazyEmbedder, kind_of
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.schema import utcnow
from personal_memory.pms.service import Clock, MemoryService
from personal_memory.pms.stores.sqlite_records import recorded_embedding

if TYPE_CHECKING:
    from personal_memory.plm.personal_context import PLMContextGenerator
    from personal_memory.plm.pipeline import Pipeline
    from personal_memory.plm.trainer.sidecar import Sidecar

logger = logging.getLogger(__name__)


def embedder_kind(settings: Settings) -> str:
    """The configured embedder; for ``auto``, the one the data dir's stores were made with (vector spaces never
    mix, so a data dir from before int8 became the default keeps its fp32 model), else int8 MiniLM."""
    if settings.embedder != "auto":
        return settings.embedder
    paths = settings.paths
    for store in (paths.persistent, paths.long_term / "records.sqlite", paths.short_term):
        identity = recorded_embedding(store)
        if identity is not None:
            return kind_of(identity) or "onnx"
    return "onnx"


def build_embedder(settings: Settings) -> LazyEmbedder:
    return LazyEmbedder(
        embedder_kind(settings),
        settings.embedder_cache or settings.paths.embedder_cache,
        settings.embedding_model_path,
        threads=settings.embedder_threads,
    )


def build_service(settings: Settings, clock: Clock | None = None) -> MemoryService:
    return MemoryService(settings.paths, build_embedder(settings), settings.service_options(), clock or utcnow)


def open_interaction_log(settings: Settings) -> InteractionLog:
    settings.paths.ensure()
    return InteractionLog(settings.paths.interactions)


def build_pipeline(settings: Settings) -> Pipeline:
    """The PLM training pipeline as the user configured it (no heavy import until it trains)."""
    from personal_memory.plm.layout import PLMPaths
    from personal_memory.plm.pipeline import Pipeline, PLMOptions

    options = PLMOptions(
        base_model=settings.base_model,
        teacher_model=settings.teacher_model,
        ollama_models_dir=settings.ollama_models_dir,
        threads=settings.train_threads,
    )
    return Pipeline(PLMPaths(settings.paths.models), options)


def build_sidecar(settings: Settings, service: MemoryService, clock: Clock | None = None) -> Sidecar:
    """The sidecar trainer over the interaction log, updating the PLM with LoRA as configured."""
    from datetime import timedelta

    from personal_memory.plm.lora import TrainConfig
    from personal_memory.plm.trainer.sidecar import Sidecar
    from personal_memory.plm.trainer.store import TrainerStore
    from personal_memory.plm.trainer.triggers import TriggerPolicy
    from personal_memory.plm.trainer.updater import LoraUpdater

    config = TrainConfig(
        epochs=settings.trainer_epochs,
        learning_rate=settings.trainer_learning_rate,
        gradient_accumulation=1,
        threads=settings.train_threads,
    )
    pipeline = build_pipeline(settings)
    updater = LoraUpdater(pipeline, service, config, merge=settings.trainer_merge)
    policy = TriggerPolicy(settings.trainer_min_events, timedelta(hours=settings.trainer_max_age_hours))
    store = TrainerStore(settings.paths.trainer)
    after_update = None
    if settings.trainer_compress:
        from personal_memory.plm.trainer.pruning_pass import compression_pass

        after_update = compression_pass(pipeline, service, store, settings.train_threads)
    return Sidecar(open_interaction_log(settings), store, updater, policy, clock or utcnow, after_update)


def build_plm_generator(settings: Settings) -> PLMContextGenerator | None:
    """The PLM context generator when ``plm_context`` is on and an adapter is trained; else None."""
    if not settings.plm_context:
        return None
    from personal_memory.context.generator import TemplateGenerator
    from personal_memory.plm.errors import PLMError
    from personal_memory.plm.personal_context import PLMContextGenerator

    pipeline = build_pipeline(settings)
    try:
        active = pipeline.registry.active()
        _ref, folder = pipeline.base(active.base_model)
    except PLMError as exc:
        logger.warning("PMEM_PLM_CONTEXT is on but the PLM cannot be used yet: %s", exc)
        return None
    return PLMContextGenerator(folder, active.path, TemplateGenerator(), threads=settings.train_threads)
