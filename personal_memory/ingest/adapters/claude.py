"""Claude.ai data export: ``conversations.json`` (Settings > Privacy > Export data).

Format followed: the export as produced in 2024-2025, a JSON array of conversations
``{uuid, name, created_at, updated_at, account: {uuid}, chat_messages: [...]}`` where each message is
``{uuid, text, content: [{type: "text", text, ...}], sender: "human" | "assistant", created_at, updated_at,
attachments, files}``. Only ``sender == "human"`` turns are kept; the text comes from the ``text`` blocks of
``content`` (older exports only have ``text``). Streaming: conversations are decoded one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from personal_memory.ingest.adapters._files import export_file, parse_item, reading
from personal_memory.ingest.datapoint import DataPoint
from personal_memory.ingest.jsonstream import JsonStream
from personal_memory.ingest.registry import Ingester

VERSION = "the Claude.ai export format of 2024-2025 (conversations.json with 'chat_messages')"


class _Block(BaseModel):
    type: str
    text: str | None = None


class _Message(BaseModel):
    uuid: str
    sender: str
    text: str = ""
    content: list[_Block] = []
    created_at: datetime | None = None

    def full_text(self) -> str:
        blocks = [b.text for b in self.content if b.type == "text" and b.text]
        return ("\n".join(blocks) if blocks else self.text).strip()


class _Conversation(BaseModel):
    uuid: str
    name: str | None = None
    created_at: datetime | None = None
    chat_messages: list[_Message]


def read(file: Path) -> Iterator[DataPoint]:
    with reading(file, "Claude conversations.json") as handle:
        for number, item in enumerate(JsonStream(handle).iter_array(), start=1):
            conversation = parse_item(_Conversation, item, file, f"conversation {number}", VERSION)
            for message in conversation.chat_messages:
                text = message.full_text()
                if message.sender != "human" or not text:
                    continue
                yield DataPoint(
                    source_kind="claude",
                    reference=f"claude:{conversation.uuid}/{message.uuid}",
                    author="user",
                    timestamp=message.created_at or conversation.created_at,
                    text=text,
                    metadata={"conversation": conversation.name or "", "conversation_id": conversation.uuid},
                )


def files(path: Path) -> Iterator[Path]:
    return export_file(path, "conversations.json")


INGESTER = Ingester("claude", "Claude.ai export (conversations.json): your own messages", files, read)
iter_datapoints = INGESTER.iter_datapoints
