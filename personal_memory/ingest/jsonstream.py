"""Decode a large JSON file one item at a time, so memory is bounded by the largest item, not the file.

No third-party parser: text is read in chunks and ``json.JSONDecoder.raw_decode`` decodes one array
item (or object member) as soon as all of it is buffered. A single item may not exceed ``max_item_chars``
(64 Mi characters by default; a ChatGPT conversation is rarely over a few MiB).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TextIO

CHUNK_CHARS = 1 << 16
MAX_ITEM_CHARS = 64 << 20
_WHITESPACE = " \t\n\r"


class JsonStreamError(ValueError):
    """The text is not the JSON expected: the message says what and at which character."""


class JsonStream:
    """A cursor over JSON text read lazily from ``handle``."""

    def __init__(self, handle: TextIO, chunk_chars: int = CHUNK_CHARS, max_item_chars: int = MAX_ITEM_CHARS) -> None:
        self._handle = handle
        self._chunk = chunk_chars
        self._max_item = max_item_chars
        self._decoder = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._consumed = 0  # characters dropped from the front of the buffer
        self._eof = False

    @property
    def offset(self) -> int:
        """Characters read and decoded so far."""
        return self._consumed + self._pos

    def _read_more(self) -> bool:
        """Append at least one chunk (as much again as is pending, so a large item costs linear time)."""
        if self._eof:
            return False
        self._consumed += self._pos
        self._buf = self._buf[self._pos :]
        self._pos = 0
        text = self._handle.read(max(self._chunk, len(self._buf)))
        if not text:
            self._eof = True
            return False
        self._buf += text
        return True

    def _peek(self) -> str:
        """The next non-whitespace character without consuming it, or '' at the end of the text."""
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._read_more():
                return ""

    def _error(self, what: str) -> JsonStreamError:
        found = self._peek()
        seen = f"found {found!r}" if found else "the file ends there (truncated?)"
        return JsonStreamError(f"expected {what} at character {self.offset}, {seen}")

    def expect(self, char: str) -> None:
        if self._peek() != char:
            raise self._error(repr(char))
        self._pos += 1

    def skip_until(self, char: str, limit: int = 4096) -> str:
        """Consume and return the text before the next ``char`` (a JavaScript prefix such as ``x = ``)."""
        start = self.offset
        skipped: list[str] = []
        while True:
            found = self._buf.find(char, self._pos)
            if found >= 0:
                skipped.append(self._buf[self._pos : found])
                self._pos = found
                return "".join(skipped)
            skipped.append(self._buf[self._pos :])
            self._pos = len(self._buf)
            if self.offset - start > limit or not self._read_more():
                raise JsonStreamError(f"no {char!r} in the first {limit} characters")

    def value(self) -> object:
        """Decode the next complete JSON value."""
        if not self._peek():
            raise self._error("a JSON value")
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if len(self._buf) - self._pos > self._max_item:
                    raise JsonStreamError(
                        f"an item at character {self.offset} is over {self._max_item} characters or malformed"
                    ) from exc
                # Only a string can run past the buffer for long; any other error far from its end is final.
                incomplete = exc.msg.startswith("Unterminated string") or exc.pos > len(self._buf) - 64
                if incomplete and self._read_more():
                    continue
                where = self._consumed + exc.pos
                raise JsonStreamError(f"malformed or truncated JSON at character {where}: {exc.msg}") from exc
            if end == len(self._buf) and self._read_more():
                continue  # a number may go on in the next chunk
            self._pos = end
            return value

    def iter_array(self) -> Iterator[object]:
        """Yield the items of the array that starts here, one at a time."""
        self.expect("[")
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            if self._peek() == ",":
                self._pos += 1
                continue
            self.expect("]")
            return

    def open_member(self, key: str) -> dict[str, object]:
        """Consume an object's members up to ``key``; return the members before it (the value comes next)."""
        self.expect("{")
        before: dict[str, object] = {}
        while self._peek() != "}":
            name = self.value()
            if not isinstance(name, str):
                raise JsonStreamError(f"an object key at character {self.offset} is not a string")
            self.expect(":")
            if name == key:
                return before
            before[name] = self.value()
            if self._peek() == ",":
                self._pos += 1
            elif self._peek() != "}":
                raise self._error("',' or '}'")
        raise JsonStreamError(f"the top-level object has no {key!r} member")
