"""Conversation transcripts between people: every turn kept, with its speaker, session, date and order.

Format followed: the LoCoMo layout (snap-research/locomo, ``locomo10.json``), a JSON array of samples
``{sample_id, conversation: {speaker_a, speaker_b, session_N: [turn, ...], session_N_date_time}, ...}`` where
a turn is ``{speaker, dia_id, text, [img_url, blip_caption, query]}``. Other members (questions, summaries)
are ignored. Unlike the chat-assistant exports, nothing is filtered out: each turn becomes one memory
``[session date] speaker: text [shares <image caption>]`` whose provenance is the turn's ``dia_id`` and
whose ``ConversationRef`` (thread = sample id, session number, turn order) lets recall read the turns
around it. Streaming: samples are decoded one at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from personal_memory.ingest.adapters._files import export_file, parse_item, reading
from personal_memory.ingest.datapoint import DataPoint, Statement
from personal_memory.ingest.jsonstream import JsonStream
from personal_memory.ingest.registry import Ingester
from personal_memory.pms.schema import ConversationRef

VERSION = "the LoCoMo conversation layout (samples with 'conversation': session_N turns and dates)"
_SESSION = re.compile(r"^session_(\d+)$")
_DATE_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%Y-%m-%d %H:%M", "%Y-%m-%d")


class _Turn(BaseModel):
    speaker: str
    dia_id: str
    text: str = ""
    blip_caption: str | None = None


class _Sample(BaseModel):
    model_config = ConfigDict(extra="allow")

    sample_id: str
    conversation: dict[str, object]


def turn_text(date: str | None, speaker: str, text: str, caption: str | None) -> str:
    """How a turn is stored: self-contained, so a keyword or a date in the question can find it."""
    line = f"{speaker}: {' '.join(text.split())}"
    if caption:
        line += f" [shares {caption.strip()}]"
    return f"[{date}] {line}" if date else line


def parse_date(value: str | None) -> datetime | None:
    """The session date as a UTC datetime, when it is in one of the known layouts."""
    if not value:
        return None
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _sessions(sample: _Sample, file: Path, where: str) -> Iterator[tuple[int, str | None, list[_Turn]]]:
    """(session number, its date, its turns), in session order."""
    numbered = sorted((int(m.group(1)), key) for key in sample.conversation if (m := _SESSION.match(key)) is not None)
    for number, key in numbered:
        date = sample.conversation.get(f"{key}_date_time")
        turns = [
            parse_item(_Turn, item, file, f"{where} {key} turn {i + 1}", VERSION)
            for i, item in enumerate(_as_list(sample.conversation[key]))
        ]
        yield number, date if isinstance(date, str) else None, turns


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []  # pyright: ignore[reportUnknownVariableType]


def read(file: Path) -> Iterator[DataPoint]:
    with reading(file, "conversation transcript (LoCoMo JSON)") as handle:
        for number, item in enumerate(JsonStream(handle).iter_array(), start=1):
            sample = parse_item(_Sample, item, file, f"sample {number}", VERSION)
            for session, date, turns in _sessions(sample, file, f"sample {sample.sample_id}"):
                for order, turn in enumerate(turns):
                    if not turn.text.strip() and not turn.blip_caption:
                        continue
                    yield DataPoint(
                        source_kind="conversation",
                        reference=f"{sample.sample_id}:{turn.dia_id}",
                        author=turn.speaker,
                        timestamp=parse_date(date),
                        statements=[Statement(text=turn_text(date, turn.speaker, turn.text, turn.blip_caption))],
                        metadata={"conversation": sample.sample_id, "dia_id": turn.dia_id},
                        conversation=ConversationRef(
                            thread=sample.sample_id,
                            session=session,
                            turn=order,
                            speaker=turn.speaker,
                            session_date=date,
                        ),
                    )


def files(path: Path) -> Iterator[Path]:
    return export_file(path, "locomo10.json", "conversations.json")


INGESTER = Ingester(
    "conversation", "Conversation transcripts (LoCoMo JSON): every turn, with speaker, session and date", files, read
)
iter_datapoints = INGESTER.iter_datapoints
