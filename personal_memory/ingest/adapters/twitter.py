"""X/Twitter archive: ``data/tweets.js`` (Settings > Your account > Download an archive of your data).

Format followed: the archive as produced from 2020 to 2025, a JavaScript file
``window.YTD.tweets.part0 = [{"tweet": {id_str, full_text, created_at ("Wed Oct 10 20:19:24 +0000 2018"),
entities: {hashtags: [{text}], user_mentions: [{screen_name}], urls}, lang, ...}}, ...]``; large archives
split into ``tweets-part1.js``..., older ones name it ``tweet.js`` / ``window.YTD.tweet.part0``.
Retweets (``RT @...``) are not the user's words and are skipped; ``full_text`` is HTML-escaped.
Streaming: tweets are decoded one at a time.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, field_validator

from personal_memory.ingest.adapters._files import parse_item, reading
from personal_memory.ingest.datapoint import DataPoint
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.jsonstream import JsonStream
from personal_memory.ingest.registry import Ingester

VERSION = "the X/Twitter archive format of 2020-2025 (window.YTD.tweets.part0 = [{tweet: ...}])"
_PREFIX = re.compile(r"^\s*window\.YTD\.tweets?\.part\d+\s*=\s*$")


class _Hashtag(BaseModel):
    text: str


class _Mention(BaseModel):
    screen_name: str


class _Entities(BaseModel):
    hashtags: list[_Hashtag] = []
    user_mentions: list[_Mention] = []


class _Tweet(BaseModel):
    id_str: str
    full_text: str
    created_at: datetime
    entities: _Entities = _Entities()

    @field_validator("created_at", mode="before")
    @classmethod
    def _twitter_date(cls, value: object) -> object:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y") if isinstance(value, str) else value


class _Item(BaseModel):
    tweet: _Tweet


def read(file: Path) -> Iterator[DataPoint]:
    with reading(file, "X/Twitter archive tweets.js") as handle:
        stream = JsonStream(handle)
        if not _PREFIX.match(stream.skip_until("[")):
            raise BadInputError(file, f"does not start with `window.YTD.tweets.part0 = [`; expected {VERSION}")
        for number, item in enumerate(stream.iter_array(), start=1):
            tweet = parse_item(_Item, item, file, f"tweet {number}", VERSION).tweet
            text = html.unescape(tweet.full_text)
            if text.startswith("RT @"):
                continue
            yield DataPoint(
                source_kind="twitter",
                reference=f"twitter:{tweet.id_str}",
                author="user",
                timestamp=tweet.created_at,
                text=text,
                tags=[h.text for h in tweet.entities.hashtags],
                entities=[f"@{m.screen_name}" for m in tweet.entities.user_mentions],
            )


def files(path: Path) -> Iterator[Path]:
    """``tweets.js`` and its ``tweets-partN.js`` siblings, from the archive root, its ``data`` folder or a file."""
    if not path.is_dir():
        yield path
        return
    folder = path / "data" if (path / "data").is_dir() else path
    found = sorted(folder.glob("tweets.js")) + sorted(folder.glob("tweets-part*.js")) or sorted(folder.glob("tweet.js"))
    if not found:
        raise BadInputError(path, "no data/tweets.js here; point at the unzipped X/Twitter archive")
    yield from found


INGESTER = Ingester("twitter", "X/Twitter archive (data/tweets.js): your own posts", files, read)
iter_datapoints = INGESTER.iter_datapoints
