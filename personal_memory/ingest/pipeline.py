"""An ingest run: read a source's files, extract candidates, stage them per file, store them in batches.

Each input file is all-or-nothing: its candidates are staged in the ledger inside one transaction, so a
file that turns out truncated or corrupt halfway is rolled back, reported, and the run goes on with the
next file. Memory use stays flat: datapoints stream from the adapters and candidates wait on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from personal_memory.ingest.datapoint import DataPoint
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.extraction import Candidate, Extractor, RuleExtractor, candidates
from personal_memory.ingest.ledger import Ledger
from personal_memory.ingest.registry import Ingester
from personal_memory.pms.errors import InvalidMemoryError
from personal_memory.pms.schema import MAX_CONTENT_BYTES, validate_content
from personal_memory.pms.service import MemoryService

logger = logging.getLogger(__name__)

DRY_RUN_SAMPLE = 20


@dataclass(frozen=True, slots=True)
class IngestOptions:
    reliability: float
    since: datetime | None = None
    batch_size: int = 256


@dataclass(slots=True)
class IngestSummary:
    files: int = 0
    datapoints: int = 0
    already_ingested: int = 0
    before_since: int = 0
    candidates: int = 0
    created: int = 0
    corroborated: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.created + self.corroborated


Progress = Callable[[IngestSummary], None]


class Ingestion:
    """One run over one source. Without a service (``--dry-run``) nothing is written anywhere; the ledger,
    when given, still tells what earlier runs ingested."""

    def __init__(
        self,
        options: IngestOptions,
        ledger: Ledger | None,
        service: MemoryService | None = None,
        extractor: Extractor | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.ledger = ledger
        self.target = (service, ledger) if service is not None and ledger is not None else None
        self.max_bytes = service.options.max_content_bytes if service is not None else MAX_CONTENT_BYTES
        self.options = options
        self.extractor = extractor or RuleExtractor()
        self.progress = progress or (lambda summary: None)
        self.summary = IngestSummary()

    def run(self, ingester: Ingester, path: Path) -> IngestSummary:
        self._store_staged()  # what an interrupted run staged but did not store
        try:
            for file in ingester.files(path):
                self._ingest_file(ingester, file)
        except BadInputError as exc:  # the source as a whole (a folder without the export file...)
            self._fail(exc)
        return self.summary

    def _fail(self, exc: BadInputError) -> None:
        logger.info("%s", exc)
        self.summary.errors.append(str(exc))
        self.progress(self.summary)

    def _ingest_file(self, ingester: Ingester, file: Path) -> None:
        before = (self.summary.datapoints, self.summary.candidates, self.summary.skipped, len(self.summary.sample))
        try:
            if self.target is not None:
                with self.target[1].staging():
                    self._read(ingester, file)
            else:
                self._read(ingester, file)
        except BadInputError as exc:
            # Nothing of this file was staged; its counts stay out of the summary.
            s = self.summary
            s.datapoints, s.candidates, s.skipped = before[:3]
            del s.sample[before[3] :]
            self._fail(exc)
            return
        self.summary.files += 1
        self._store_staged()

    def _read(self, ingester: Ingester, file: Path) -> None:
        for point in ingester.read(file):
            self.summary.datapoints += 1
            if self.options.since and point.timestamp and point.timestamp < self.options.since:
                self.summary.before_since += 1
            elif self.ledger is not None and self.ledger.seen(point):
                self.summary.already_ingested += 1
            else:
                self._extract(point)
            self.progress(self.summary)

    def _extract(self, point: DataPoint) -> None:
        found: list[Candidate] = []
        for candidate in candidates(point, self.extractor, self.options.reliability):
            try:
                validate_content(candidate.content, self.max_bytes)
            except InvalidMemoryError:
                self.summary.skipped += 1
                continue
            found.append(candidate)
        self.summary.candidates += len(found)
        if self.target is not None:
            self.target[1].stage(point, found)
        else:
            room = DRY_RUN_SAMPLE - len(self.summary.sample)
            self.summary.sample.extend(c.content for c in found[: max(room, 0)])

    def _store_staged(self) -> None:
        if self.target is None:
            return
        service, ledger = self.target
        while batch := ledger.next_batch(self.options.batch_size):
            outcomes = service.remember_many([c.to_new_memory() for _, c in batch])
            created = sum(o.created for o in outcomes)
            self.summary.created += created
            self.summary.corroborated += len(outcomes) - created
            ledger.stored(batch[-1][0])
            self.progress(self.summary)
