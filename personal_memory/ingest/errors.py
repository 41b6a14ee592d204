"""Errors of the ingestion layer; the CLI turns them into clean messages."""

from __future__ import annotations

from pathlib import Path

from personal_memory.pms.errors import PMSError


class IngestError(PMSError):
    """An ingest run cannot go on (another run holds the ledger, the extractor is unreachable...)."""


class BadInputError(IngestError):
    """One input file is unreadable: the message names the file and what is wrong with it."""

    def __init__(self, file: Path, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem
