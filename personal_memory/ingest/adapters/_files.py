"""What the adapters share: locating an export file, reading text strictly, and validating its items."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.jsonstream import JsonStreamError

M = TypeVar("M", bound=BaseModel)


def export_file(path: Path, *names: str) -> Iterator[Path]:
    """``path`` itself, or the first of ``names`` (relative paths) inside it when it is an export folder."""
    if not path.is_dir():
        yield path
        return
    for name in names:
        if (path / name).is_file():
            yield path / name
            return
    raise BadInputError(path, f"no {' or '.join(names)} in this folder; point at the export file itself")


@contextmanager
def reading(file: Path, what: str) -> Iterator[TextIO]:
    """Open ``file`` as strict UTF-8 and turn every decoding or JSON problem into a ``BadInputError``."""
    try:
        with file.open(encoding="utf-8-sig") as handle:
            yield handle
    except UnicodeDecodeError as exc:
        raise BadInputError(
            file, f"is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r}); is it really {what}?"
        ) from exc
    except JsonStreamError as exc:
        raise BadInputError(file, f"is not a valid {what}: {exc}") from exc
    except OSError as exc:
        raise BadInputError(file, f"cannot be read: {exc.strerror or exc}") from exc


def parse_item(model: type[M], item: object, file: Path, where: str, version: str) -> M:
    """Validate one export item; a mismatch means another (or newer) export format than the one supported."""
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "item"
        raise BadInputError(
            file, f"unknown format at {where}: {field}: {first['msg']} (this reader follows {version})"
        ) from exc


def epoch(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
