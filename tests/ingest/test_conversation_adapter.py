"""The conversation adapter: every turn, with speaker, session, date, caption, order and dia_id provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personal_memory.ingest.adapters.conversation import INGESTER
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.ledger import Ledger
from personal_memory.ingest.pipeline import Ingestion, IngestOptions
from personal_memory.pms.schema import ConversationRef
from personal_memory.pms.service import MemoryService

SAMPLE = {
    "sample_id": "conv-9",
    "conversation": {
        "speaker_a": "Ana",
        "speaker_b": "Ben",
        "session_2_date_time": "10:00 am on 20 May, 2023",
        "session_2": [{"speaker": "Ana", "dia_id": "D2:1", "text": "Back from Oslo!"}],
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ana", "dia_id": "D1:1", "text": "Hi Ben!"},
            {
                "speaker": "Ben",
                "dia_id": "D1:2",
                "text": "Look at my  new bike.",
                "img_url": ["x"],
                "blip_caption": "a photo of a red bicycle",
            },
        ],
    },
    "qa": [{"question": "ignored", "answer": "x", "evidence": ["D1:1"], "category": 4}],
}


def _export(tmp_path: Path, samples: list[object]) -> Path:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(samples))
    return path


def test_every_turn_becomes_a_datapoint_with_speaker_session_date_caption_and_order(tmp_path: Path) -> None:
    points = list(INGESTER.iter_datapoints(_export(tmp_path, [SAMPLE])))
    assert [p.reference for p in points] == ["conv-9:D1:1", "conv-9:D1:2", "conv-9:D2:1"]
    assert [p.statements[0].text for p in points] == [
        "[1:56 pm on 8 May, 2023] Ana: Hi Ben!",
        "[1:56 pm on 8 May, 2023] Ben: Look at my new bike. [shares a photo of a red bicycle]",
        "[10:00 am on 20 May, 2023] Ana: Back from Oslo!",
    ]
    assert [(p.conversation.session, p.conversation.turn) for p in points if p.conversation] == [(1, 0), (1, 1), (2, 0)]
    assert points[1].author == "Ben" and points[1].timestamp is not None and points[1].timestamp.day == 8


def test_a_turn_without_a_speaker_is_reported_as_bad_input(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(SAMPLE))
    del broken["conversation"]["session_1"][0]["speaker"]
    with pytest.raises(BadInputError, match="speaker"):
        list(INGESTER.iter_datapoints(_export(tmp_path, [broken])))


def test_ingesting_a_conversation_stores_each_turn_in_its_thread_slot(
    tmp_path: Path, fake_service: MemoryService
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    summary = Ingestion(IngestOptions(reliability=0.7), ledger, fake_service).run(INGESTER, _export(tmp_path, [SAMPLE]))
    ledger.close()
    assert summary.created == 3 and not summary.errors
    slot = ConversationRef(thread="conv-9", session=1, turn=1).at(1)
    entry = fake_service.find(slot)
    assert entry.sources[0].reference == "conv-9:D1:2" and entry.sources[0].conversation is not None
    assert entry.sources[0].conversation.speaker == "Ben"
