"""Builders of small export files in the exact formats the real services produce (see each adapter's docstring)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def chatgpt_conversation(index: int, turns: list[tuple[str, str]], edited_away: str | None = None) -> dict[str, object]:
    """One conversation of a ChatGPT ``conversations.json``: a mapping tree from a hidden system root."""
    base = T0.timestamp() + index * 3600
    conv_id = f"6612c0de-0000-4000-8000-{index:012d}"
    mapping: dict[str, dict[str, object]] = {
        "client-created-root": {"id": "client-created-root", "message": None, "parent": None, "children": ["sys"]}
    }
    system = _chatgpt_message("sys", "system", "", None)
    system["metadata"] = {"is_visually_hidden_from_conversation": True}
    mapping["sys"] = {"id": "sys", "message": system, "parent": "client-created-root", "children": []}
    parent = "sys"
    for number, (role, text) in enumerate(turns):
        node_id = f"{conv_id[-4:]}-msg-{number}"
        mapping[node_id] = {
            "id": node_id,
            "message": _chatgpt_message(node_id, role, text, base + number * 30),
            "parent": parent,
            "children": [],
        }
        mapping[parent]["children"].append(node_id)  # type: ignore[union-attr]  # built above as a list
        if edited_away and number == 0:  # a first attempt the user edited: a sibling branch not on the thread
            mapping["edited"] = {
                "id": "edited",
                "message": _chatgpt_message("edited", "user", edited_away, base),
                "parent": parent,
                "children": [],
            }
            mapping[parent]["children"].append("edited")  # type: ignore[union-attr]
        parent = node_id
    return {
        "title": f"Conversation {index}",
        "create_time": base,
        "update_time": base + 600,
        "mapping": mapping,
        "moderation_results": [],
        "current_node": parent,
        "plugin_ids": None,
        "conversation_id": conv_id,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": conv_id,
    }


def _chatgpt_message(node_id: str, role: str, text: str, when: float | None) -> dict[str, object]:
    return {
        "id": node_id,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": when,
        "update_time": None,
        "content": {"content_type": "text", "parts": [text]},
        "status": "finished_successfully",
        "end_turn": role == "assistant",
        "weight": 1.0,
        "metadata": {},
        "recipient": "all",
        "channel": None,
    }


def claude_conversation(index: int, turns: list[tuple[str, str]]) -> dict[str, object]:
    """One conversation of a Claude.ai ``conversations.json``."""
    conv_id = f"4a1b2c3d-0000-4000-9000-{index:012d}"
    stamp = f"2024-05-0{index % 9 + 1}T10:00:00.000000Z"
    messages = [
        {
            "uuid": f"{conv_id[:-4]}{number:04d}",
            "text": text,
            "content": [
                {"start_timestamp": stamp, "stop_timestamp": stamp, "type": "text", "text": text, "citations": []}
            ],
            "sender": sender,
            "created_at": stamp,
            "updated_at": stamp,
            "attachments": [],
            "files": [],
        }
        for number, (sender, text) in enumerate(turns)
    ]
    return {
        "uuid": conv_id,
        "name": f"Chat {index}",
        "created_at": stamp,
        "updated_at": stamp,
        "account": {"uuid": "acc-1"},
        "chat_messages": messages,
    }


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def twitter_archive(root: Path, tweets: list[str]) -> Path:
    """An unzipped X archive with ``data/tweets.js`` as the archive writes it (pretty-printed, escaped text)."""
    items = [
        {
            "tweet": {
                "edit_info": {
                    "initial": {
                        "editTweetIds": [str(1000 + i)],
                        "editableUntil": "2023-01-01T00:00:00.000Z",
                        "editsRemaining": "5",
                        "isEditEligible": True,
                    }
                },
                "retweeted": False,
                "source": '<a href="https://mobile.twitter.com">Twitter Web App</a>',
                "entities": {
                    "hashtags": [{"text": w[1:], "indices": ["0", "1"]} for w in text.split() if w[0] == "#"],
                    "symbols": [],
                    "urls": [],
                    "user_mentions": [
                        {"name": w[1:], "screen_name": w[1:], "indices": ["0", "1"], "id_str": "42", "id": "42"}
                        for w in text.split()
                        if w[0] == "@"
                    ],
                },
                "display_text_range": ["0", str(len(text))],
                "favorite_count": "3",
                "id_str": str(1000 + i),
                "truncated": False,
                "retweet_count": "0",
                "id": str(1000 + i),
                "created_at": f"Wed Oct {10 + i} 20:19:24 +0000 2018",
                "favorited": False,
                "full_text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
                "lang": "en",
            }
        }
        for i, text in enumerate(tweets)
    ]
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(items, indent=2), encoding="utf-8")
    return root


def mastodon_outbox(path: Path, notes: list[str], boosts: int = 1) -> Path:
    actor = "https://mastodon.example/users/me"
    items: list[dict[str, object]] = [
        {
            "id": f"{actor}/statuses/{100 + i}/activity",
            "type": "Create",
            "actor": actor,
            "published": f"2023-06-0{i % 9 + 1}T08:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [f"{actor}/followers"],
            "object": {
                "id": f"{actor}/statuses/{100 + i}",
                "type": "Note",
                "summary": None,
                "inReplyTo": None,
                "published": f"2023-06-0{i % 9 + 1}T08:00:00Z",
                "url": f"https://mastodon.example/@me/{100 + i}",
                "attributedTo": actor,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [],
                "sensitive": False,
                "atomUri": f"{actor}/statuses/{100 + i}",
                "conversation": "tag:x",
                "content": html,
                "contentMap": {"en": html},
                "attachment": [],
                "tag": [{"type": "Hashtag", "href": "https://mastodon.example/tags/rust", "name": "#rust"}],
                "replies": {"id": "r", "type": "Collection"},
            },
            "signature": {"type": "RsaSignature2017", "creator": f"{actor}#main-key", "signatureValue": "x"},
        }
        for i, html in enumerate(notes)
    ]
    items += [
        {
            "id": f"{actor}/statuses/{900 + i}/activity",
            "type": "Announce",
            "actor": actor,
            "published": "2023-07-01T00:00:00Z",
            "object": "https://other.example/users/x/statuses/1",
        }
        for i in range(boosts)
    ]
    return write_json(
        path,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "outbox.json",
            "type": "OrderedCollection",
            "totalItems": len(items),
            "orderedItems": items,
        },
    )


def git_repo(path: Path, email: str = "me@example.org") -> Path:
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.email", email)
    _git(path, "config", "user.name", "Me")
    return path


def commit(repo: Path, files: dict[str, str], message: str, email: str | None = None, date: str | None = None) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo, "add", "-A")
    env_author = ["-c", f"user.email={email}"] if email else []
    args = [*env_author, "commit", "-q", "-m", message, *(["--date", date] if date else [])]
    _git(repo, *args)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        env={
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_SYSTEM": "/dev/null",
            "PATH": "/usr/bin:/bin",
            "GIT_COMMITTER_DATE": "2024-02-03T10:00:00+00:00",
        },
    )


def photo(
    path: Path,
    taken: str | None = "2024:07:14 14:03:00",
    camera: tuple[str, str] | None = ("Canon", "Canon EOS R6"),
    gps: tuple[float, float] | None = (48.8583, 2.2945),
) -> Path:
    """A real JPEG or PNG (by suffix) written by Pillow with EXIF date, camera and GPS."""
    exif = Image.Exif()
    if camera:
        exif[0x010F], exif[0x0110] = camera
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps:
        info = exif.get_ifd(0x8825)
        for (ref_tag, value_tag), value, refs in (((1, 2), gps[0], "NS"), ((3, 4), gps[1], "EW")):
            info[ref_tag] = refs[value < 0]
            degrees = abs(value)
            minutes = (degrees % 1) * 60
            info[value_tag] = (
                IFDRational(int(degrees)),
                IFDRational(int(minutes)),
                IFDRational(round((minutes % 1) * 60 * 100), 100),
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Bytes, not the Exif object: Pillow skips an Exif whose base IFD is empty when writing PNG.
    Image.new("RGB", (16, 12), (200, 120, 40)).save(path, exif=exif.tobytes())
    return path
