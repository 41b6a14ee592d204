"""Corrupt, truncated, foreign and non-UTF-8 files: a clear message naming the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personal_memory.ingest.adapters import chatgpt, claude, git, mastodon, notes, photos, twitter
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.registry import Ingester
from tests.ingest.exports import chatgpt_conversation, claude_conversation, mastodon_outbox, twitter_archive, write_json


def _problem(ingester: Ingester, path: Path) -> str:
    with pytest.raises(BadInputError) as caught:
        list(ingester.iter_datapoints(path))
    assert str(caught.value).startswith(str(caught.value.file))
    return caught.value.problem


def test_a_truncated_chatgpt_export_names_the_file_and_says_truncated(tmp_path: Path) -> None:
    export = write_json(
        tmp_path / "conversations.json", [chatgpt_conversation(i, [("user", "I am here.")]) for i in range(3)]
    )
    export.write_text(export.read_text()[:-200])
    assert "truncated" in _problem(chatgpt.INGESTER, export)


def test_an_unknown_chatgpt_format_version_says_which_field_is_missing(tmp_path: Path) -> None:
    export = write_json(tmp_path / "conversations.json", [{"title": "x", "messages": []}])
    problem = _problem(chatgpt.INGESTER, export)
    assert "unknown format at conversation 1: mapping" in problem and "2023-2025" in problem


def test_a_claude_export_given_as_chatgpt_is_an_unknown_format(tmp_path: Path) -> None:
    export = write_json(tmp_path / "conversations.json", [claude_conversation(1, [("human", "I sing.")])])
    assert "unknown format" in _problem(chatgpt.INGESTER, export)
    assert [p.text for p in claude.iter_datapoints(export)] == ["I sing."]


def test_an_object_where_an_array_belongs_is_reported(tmp_path: Path) -> None:
    export = write_json(tmp_path / "conversations.json", {"conversations": []})
    assert "expected '['" in _problem(claude.INGESTER, export)


def test_a_non_utf8_file_is_reported_as_such(tmp_path: Path) -> None:
    export = tmp_path / "conversations.json"
    export.write_bytes(json.dumps([{"uuid": "x", "chat_messages": []}]).encode().replace(b"[]", b'["caf\xe9"]'))
    assert "is not UTF-8" in _problem(claude.INGESTER, export)
    note = tmp_path / "latin1.md"
    note.write_bytes("Je suis né à Nîmes.".encode("latin-1"))
    assert "is not UTF-8" in _problem(notes.INGESTER, note)


def test_a_folder_without_the_export_file_says_what_is_missing(tmp_path: Path) -> None:
    assert "no conversations.json in this folder" in _problem(chatgpt.INGESTER, tmp_path)
    assert "no data/tweets.js" in _problem(twitter.INGESTER, tmp_path)
    assert "no outbox.json" in _problem(mastodon.INGESTER, tmp_path)


def test_a_tweets_file_without_the_archive_prefix_is_refused(tmp_path: Path) -> None:
    archive = twitter_archive(tmp_path, ["I code."])
    tweets = archive / "data" / "tweets.js"
    tweets.write_text(tweets.read_text().replace("window.YTD.tweets.part0 = ", "var x = "))
    assert "window.YTD.tweets.part0" in _problem(twitter.INGESTER, tweets)


def test_an_outbox_that_is_not_a_collection_is_refused(tmp_path: Path) -> None:
    outbox = mastodon_outbox(tmp_path / "outbox.json", ["<p>I knit.</p>"])
    outbox.write_text(outbox.read_text().replace('"OrderedCollection"', '"Person"'))
    assert "not an OrderedCollection" in _problem(mastodon.INGESTER, outbox)
    write_json(outbox, {"type": "OrderedCollection", "first": "page1"})
    assert "no 'orderedItems'" in _problem(mastodon.INGESTER, outbox)


def test_a_broken_image_and_a_folder_that_is_no_repository_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert "not a readable JPEG or PNG" in _problem(photos.INGESTER, broken)
    assert _problem(git.INGESTER, tmp_path) == "is not a git repository"
