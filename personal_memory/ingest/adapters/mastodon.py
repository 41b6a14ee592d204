"""Mastodon archive: ``outbox.json`` (Preferences > Import and export > Request your archive).

Format followed: ActivityStreams 2.0 as Mastodon 3.x-4.x writes it, an ``OrderedCollection``
``{"@context", id, type: "OrderedCollection", totalItems, orderedItems: [...]}`` whose items are
``Create`` activities with an ``object`` of type ``Note`` (``id``, ``published``, ``content`` as HTML,
``tag: [{type: "Hashtag", name}, {type: "Mention", name}]``) or ``Announce`` (boosts, skipped: not the
user's words). Streaming: the activities are decoded one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from pydantic import BaseModel

from personal_memory.ingest.adapters._files import export_file, parse_item, reading
from personal_memory.ingest.datapoint import DataPoint
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.jsonstream import JsonStream
from personal_memory.ingest.registry import Ingester

VERSION = "Mastodon's ActivityPub outbox.json (OrderedCollection of Create/Note)"


class _Tag(BaseModel):
    type: str
    name: str = ""


class _Note(BaseModel):
    id: str
    type: str
    content: str = ""
    published: datetime | None = None
    tag: list[_Tag] = []


class _Activity(BaseModel):
    type: str
    actor: str | None = None
    published: datetime | None = None
    object: _Note | str | None = None


class _TextOfHtml(HTMLParser):
    """Toot HTML to plain text: paragraphs and line breaks become newlines, tags are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    return "\n".join(line.strip() for line in "".join(parser.parts).splitlines() if line.strip())


def read(file: Path) -> Iterator[DataPoint]:
    with reading(file, "Mastodon outbox.json") as handle:
        stream = JsonStream(handle)
        header = stream.open_member("orderedItems")
        if header.get("type", "OrderedCollection") != "OrderedCollection":
            raise BadInputError(file, f"is a {header.get('type')!r}, not an OrderedCollection; expected {VERSION}")
        for number, item in enumerate(stream.iter_array(), start=1):
            activity = parse_item(_Activity, item, file, f"activity {number}", VERSION)
            note = activity.object
            if activity.type != "Create" or not isinstance(note, _Note) or note.type != "Note":
                continue
            text = html_to_text(note.content)
            if not text:
                continue
            yield DataPoint(
                source_kind="mastodon",
                reference=note.id,
                author="user",
                timestamp=note.published or activity.published,
                text=text,
                tags=[t.name.lstrip("#") for t in note.tag if t.type == "Hashtag"],
                entities=[t.name for t in note.tag if t.type == "Mention"],
                metadata={"actor": activity.actor or ""},
            )


def files(path: Path) -> Iterator[Path]:
    return export_file(path, "outbox.json")


INGESTER = Ingester("mastodon", "Mastodon archive (outbox.json): your own posts", files, read)
iter_datapoints = INGESTER.iter_datapoints
