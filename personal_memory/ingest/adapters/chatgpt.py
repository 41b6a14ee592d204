"""ChatGPT data export: ``conversations.json`` (Settings > Data controls > Export data).

Format followed: the export as produced from 2023 to 2025, a JSON array of conversations, each with
``title``, ``create_time`` (epoch seconds), ``conversation_id``/``id``, ``current_node`` and ``mapping``:
a tree of nodes ``{id, message, parent, children}`` where ``message`` has ``author.role`` (``user``,
``assistant``, ``system``, ``tool``), ``create_time`` and ``content`` (``content_type`` ``text`` or
``multimodal_text`` with ``parts``; ``user_editable_context`` with the custom instructions' ``user_profile``).
Only the user's turns on the branch ending at ``current_node`` are kept (edited-away branches are not).
Streaming: conversations are decoded one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from personal_memory.ingest.adapters._files import epoch, export_file, parse_item, reading
from personal_memory.ingest.datapoint import DataPoint
from personal_memory.ingest.jsonstream import JsonStream
from personal_memory.ingest.registry import Ingester

VERSION = "the ChatGPT export format of 2023-2025 (conversations.json with a 'mapping' tree)"


class _Author(BaseModel):
    role: str


class _Content(BaseModel):
    content_type: str
    parts: list[object] | None = None
    user_profile: str | None = None


class _Message(BaseModel):
    id: str
    author: _Author
    create_time: float | None = None
    content: _Content

    def text(self) -> str:
        if self.content.content_type == "user_editable_context":
            return self.content.user_profile or ""
        return "\n".join(part for part in self.content.parts or [] if isinstance(part, str)).strip()


class _Node(BaseModel):
    message: _Message | None = None
    parent: str | None = None


class _Conversation(BaseModel):
    title: str | None = None
    create_time: float | None = None
    id: str | None = None
    conversation_id: str | None = None
    current_node: str | None = None
    mapping: dict[str, _Node]

    def thread(self) -> list[_Message]:
        """The messages on the branch the user last saw, oldest first (all of them when no branch is marked)."""
        if self.current_node not in self.mapping:
            found = [n.message for n in self.mapping.values() if n.message is not None]
            return sorted(found, key=lambda m: m.create_time or 0.0)
        path: list[_Message] = []
        node_id: str | None = self.current_node
        seen: set[str] = set()
        while node_id is not None and node_id in self.mapping and node_id not in seen:
            seen.add(node_id)
            node = self.mapping[node_id]
            if node.message is not None:
                path.append(node.message)
            node_id = node.parent
        return path[::-1]


def read(file: Path) -> Iterator[DataPoint]:
    with reading(file, "ChatGPT conversations.json") as handle:
        for number, item in enumerate(JsonStream(handle).iter_array(), start=1):
            conversation = parse_item(_Conversation, item, file, f"conversation {number}", VERSION)
            conversation_id = conversation.conversation_id or conversation.id or f"#{number}"
            for message in conversation.thread():
                text = message.text()
                if message.author.role != "user" or not text:
                    continue
                yield DataPoint(
                    source_kind="chatgpt",
                    reference=f"chatgpt:{conversation_id}/{message.id}",
                    author="user",
                    timestamp=epoch(message.create_time or conversation.create_time),
                    text=text,
                    metadata={"conversation": conversation.title or "", "conversation_id": conversation_id},
                )


def files(path: Path) -> Iterator[Path]:
    return export_file(path, "conversations.json")


INGESTER = Ingester("chatgpt", "ChatGPT export (conversations.json): your own messages", files, read)
iter_datapoints = INGESTER.iter_datapoints
