"""Notes and documents: a folder of Markdown or plain-text files, such as an Obsidian vault.

Format followed: Obsidian's Markdown (2020-2025): optional YAML front matter between ``---`` lines
(``title``, ``tags``/``aliases`` as a list or comma list, ``date``/``created``, ``author``), inline
``#tags`` (``#topic/sub``), ``[[wiki-links]]`` (``[[Note|alias]]``, ``[[Note#Heading]]``). Each note is split
into chunks at headings and blank lines (at most ``MAX_CHUNK_CHARS`` each), referenced as ``path:line``.
Hidden folders (``.obsidian``, ``.trash``, ``.git``) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from personal_memory.ingest.datapoint import DataPoint
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.registry import Ingester

SUFFIXES = {".md", ".markdown", ".txt"}
MAX_CHUNK_CHARS = 1200
_TAG = re.compile(r"(?<![\w#&/])#([A-Za-z_][\w/-]*)")
_LINK = re.compile(r"\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|([^\]]+))?\]\]")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(slots=True)
class _Chunk:
    heading: str
    line: int = 0
    chars: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, number: int, line: str) -> None:
        if not self.lines:
            self.line = number
        self.lines.append(line)
        self.chars += len(line) + 1

    def text(self) -> str:
        return "\n".join(self.lines).strip()


def parse_front_matter(lines: list[str]) -> tuple[dict[str, str | list[str]], int]:
    """The front matter's simple ``key: value`` / list entries, and the index of the first body line."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    meta: dict[str, str | list[str]] = {}
    key = ""
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return meta, index + 1
        if line.lstrip().startswith("- ") and key:
            items = meta.get(key)
            meta[key] = [*(items if isinstance(items, list) else []), _unquote(line.lstrip()[2:])]
        elif ":" in line and not line.startswith(" "):
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if value.startswith("[") and value.endswith("]"):
                meta[key] = [_unquote(v) for v in value[1:-1].split(",") if v.strip()]
            elif value:
                meta[key] = _unquote(value)
    return {}, 0  # no closing line: it was not front matter


def _unquote(value: str) -> str:
    return value.strip().strip("'\"")


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(r"[,\s]+", value)
    return [item.lstrip("#").strip() for item in items if item.strip()]


def _when(meta: dict[str, str | list[str]], file: Path) -> datetime:
    for key in ("date", "created", "updated"):
        value = meta.get(key)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value) if "T" in value or " " in value else None
                parsed = parsed or datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.fromtimestamp(file.stat().st_mtime, UTC)


def chunks(lines: list[str], first: int) -> Iterator[_Chunk]:
    """Paragraph-packed chunks: a heading starts a new one, code blocks are left out, none over the cap."""
    current = _Chunk("")
    in_code = False
    for number, line in enumerate(lines[first:], start=first + 1):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        heading = None if in_code else _HEADING.match(line)
        blank = in_code or not line.strip()
        if heading or (blank and current.chars > MAX_CHUNK_CHARS // 2) or current.chars + len(line) > MAX_CHUNK_CHARS:
            if current.lines:
                yield current
            current = _Chunk(heading.group(1).strip() if heading else current.heading)
        if not heading and not (blank and not current.lines) and not in_code:
            current.add(number, line)
    if current.lines:
        yield current


def read(file: Path) -> Iterator[DataPoint]:
    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise BadInputError(file, f"is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r})") from exc
    except OSError as exc:
        raise BadInputError(file, f"cannot be read: {exc.strerror or exc}") from exc
    meta, first = parse_front_matter(lines)
    when = _when(meta, file)
    title = meta.get("title")
    note_tags = _as_list(meta.get("tags"))
    author = meta.get("author")
    for chunk in chunks(lines, first):
        raw = chunk.text()
        links = [m.group(1).strip() for m in _LINK.finditer(raw)]
        yield DataPoint(
            source_kind="notes",
            reference=f"{file}:{chunk.line}",
            author=author if isinstance(author, str) else "user",
            timestamp=when,
            text=_LINK.sub(lambda m: (m.group(2) or m.group(1)).strip(), raw),
            tags=list(dict.fromkeys([*note_tags, *_TAG.findall(raw)])),
            entities=list(dict.fromkeys(links)),
            metadata={
                "title": title if isinstance(title, str) else file.stem,
                "heading": chunk.heading,
                "aliases": _as_list(meta.get("aliases")),
            },
        )


def files(path: Path) -> Iterator[Path]:
    """The note files under ``path`` (or ``path`` itself), in a stable order, skipping hidden folders."""
    if not path.is_dir():
        yield path
        return
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path).parts
        if file.suffix.lower() in SUFFIXES and file.is_file() and not any(p.startswith(".") for p in relative):
            yield file


INGESTER = Ingester("notes", "Markdown or text notes (an Obsidian vault, a docs folder)", files, read)
iter_datapoints = INGESTER.iter_datapoints
