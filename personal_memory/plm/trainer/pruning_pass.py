"""The trainer's optional pruning pass: after a kept update, compress the personal model again.

Off by default (``PMEM_TRAINER_COMPRESS``): pruning, distillation recovery and quantisation take far
longer than an incremental update. It re-prepares the dataset from the current memories, then runs
``plm.compress.run_compression`` with the domain activations the trainer counted, exactly as
``pmem train compress`` does. A failure is logged and never stops the trainer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from personal_memory.plm.pipeline import Pipeline
from personal_memory.plm.trainer.store import TrainerStore, UpdateRecord
from personal_memory.pms.errors import PMSError
from personal_memory.pms.service import MemoryService

logger = logging.getLogger(__name__)


def compression_pass(
    pipeline: Pipeline, service: MemoryService, store: TrainerStore, threads: int = 2
) -> Callable[[UpdateRecord], None]:
    """The sidecar's ``after_update`` hook running a compression after every kept update."""
    from personal_memory.plm.compress import CompressOptions, run_compression

    def run(record: UpdateRecord) -> None:
        if record.status != "kept":
            return
        try:
            pipeline.prepare(service)
            report = run_compression(
                pipeline, list(service.iter_active()), store.domain_counts(), CompressOptions(threads=threads)
            )
        except PMSError as exc:
            logger.warning("Pruning pass after update %s skipped: %s", record.id, exc)
            return
        logger.warning("Pruning pass after update %s: compressed model in %s", record.id, report.folder)

    return run
