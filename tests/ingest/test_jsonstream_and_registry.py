"""The streaming JSON reader and the plugin registry."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import pytest

from personal_memory.ingest import registry
from personal_memory.ingest.jsonstream import JsonStream, JsonStreamError


def test_items_decode_one_at_a_time_whatever_the_chunk_size() -> None:
    items = [{"n": i, "text": "é" * (i * 37 % 300), "nested": [1, {"x": None}]} for i in range(300)] + [12345, 1.5]
    for chunk in (1, 7, 4096):
        assert list(JsonStream(io.StringIO(json.dumps(items)), chunk_chars=chunk).iter_array()) == items


def test_the_buffer_holds_about_one_item_not_the_file() -> None:
    handle = io.StringIO(json.dumps([{"pad": "x" * 1000}] * 2000))
    stream = JsonStream(handle, chunk_chars=4096)
    items = stream.iter_array()
    next(items)
    assert handle.tell() < 10_000 < len(handle.getvalue())


def test_a_member_array_of_an_object_streams_after_its_header() -> None:
    stream = JsonStream(io.StringIO('{"type": "OrderedCollection", "totalItems": 2, "orderedItems": [1, 2], "x": 0}'))
    assert stream.open_member("orderedItems") == {"type": "OrderedCollection", "totalItems": 2}
    assert list(stream.iter_array()) == [1, 2]


def test_a_syntax_error_mid_file_fails_without_reading_the_rest() -> None:
    handle = io.StringIO('[{"a": 1,, "b": 2}' + ', {"x": 1}' * 100_000 + "]")
    with pytest.raises(JsonStreamError, match="malformed or truncated JSON at character 9"):
        list(JsonStream(handle).iter_array())
    assert handle.tell() < 100_000


def test_an_item_over_the_size_bound_is_refused() -> None:
    stream = JsonStream(io.StringIO(json.dumps(["y" * 5000])), chunk_chars=512, max_item_chars=1000)
    with pytest.raises(JsonStreamError, match="over 1000 characters"):
        list(stream.iter_array())


def test_builtins_load_as_entry_points_of_the_plugin_group() -> None:
    assert {p.group for p in registry.BUILTINS} == {registry.ENTRY_POINT_GROUP}
    loaded = registry.load_ingesters()
    assert list(loaded)[:7] == ["notes", "git", "chatgpt", "claude", "twitter", "mastodon", "photos"]
    assert set(registry.load_ingesters(only={"git"})) == {"git"}


def test_an_installed_plugin_is_loaded_like_a_builtin_and_a_broken_one_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "diary_plugin.py").write_text(
        "from personal_memory.ingest.registry import Ingester\n"
        "from personal_memory.ingest.datapoint import DataPoint\n"
        "def _files(path):\n    yield path\n"
        "def _read(path):\n    yield DataPoint(source_kind='diary', reference=str(path), text=path.read_text())\n"
        "INGESTER = Ingester('diary', 'A diary', _files, _read)\n"
        "NOT_AN_INGESTER = 42\n"
    )
    info = tmp_path / "diary_plugin-0.1.dist-info"  # what pip writes when it installs a plugin package
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: diary-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\ndiary = diary_plugin:INGESTER\nodd = diary_plugin:NOT_AN_INGESTER\n"
        "gone = no_such_module_xyz:INGESTER\nnotes = diary_plugin:INGESTER\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "diary_plugin", raising=False)
    with caplog.at_level(logging.WARNING):
        loaded = registry.load_ingesters()
    assert "diary" in loaded and "odd" not in loaded and "gone" not in loaded
    assert loaded["notes"].summary != "A diary"  # a plugin cannot replace a built-in
    assert "failed to load" in caplog.text and "is not an Ingester" in caplog.text
    (tmp_path / "day.txt").write_text("I slept well.")
    assert [p.text for p in loaded["diary"].iter_datapoints(tmp_path / "day.txt")] == ["I slept well."]
    assert "diary" not in registry.load_ingesters(plugins=False)
