"""Data preparation: memories -> weighted question/answer examples in both SEED.md formats."""

from __future__ import annotations

import json

from personal_memory.plm import data
from personal_memory.plm.layout import PLMPaths
from personal_memory.plm.pipeline import Pipeline, PLMOptions
from personal_memory.pms.schema import Confidence, MemoryEntry, MemoryType
from personal_memory.pms.service import MemoryService


def _prepare(service: MemoryService) -> tuple[Pipeline, data.DatasetManifest]:
    pipeline = Pipeline(PLMPaths(service.paths.models), PLMOptions())
    return pipeline, pipeline.prepare(service)


def _lines(path):  # type: ignore[no-untyped-def]
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_memory_becomes_several_questions_in_instruction_and_chat_format(memory_service) -> None:  # type: ignore[no-untyped-def]
    pipeline, manifest = _prepare(memory_service)
    folder = pipeline.paths.training_data
    instruction, chat = _lines(folder / data.INSTRUCTION_FILE), _lines(folder / data.CHAT_FILE)
    assert manifest.counts["memories"] == 8 and len(instruction) == len(chat) == manifest.counts["examples"]
    per_memory = {mid: sum(r["memory_id"] == mid for r in instruction) for mid in manifest.memory_ids}
    assert min(per_memory.values()) >= 4
    record = next(r for r in instruction if "Portuguese" in r["output"])
    assert record["input"] == "" and record["output"] == "You can speak Portuguese fluently"
    roles = [m["role"] for m in chat[0]["messages"]]
    assert roles == ["system", "user", "assistant"]


def test_superseded_memory_is_left_out_and_its_questions_get_the_corrected_answer(memory_service) -> None:  # type: ignore[no-untyped-def]
    pipeline, _manifest = _prepare(memory_service)
    examples = pipeline.examples(data.INSTRUCTION_FILE)
    assert not any("Lyon" in e.answer for e in examples)
    about_lyon = [e for e in examples if "Lyon" in e.question]
    assert about_lyon and all(e.answer == "You live in Porto with your two cats" for e in about_lyon)
    correction = about_lyon[0]
    assert correction.weight > 2 * max(
        e.weight for e in examples if e.memory_type == "fact" and e is not correction and "Porto" not in e.answer
    )


def test_held_out_paraphrases_are_never_training_questions(memory_service) -> None:  # type: ignore[no-untyped-def]
    pipeline, manifest = _prepare(memory_service)
    train = {e.question for e in pipeline.examples(data.INSTRUCTION_FILE)}
    held_out = pipeline.examples(data.EVAL_FILE)
    assert len(held_out) == manifest.counts["eval"] == 2 * 8
    assert not train & {e.question for e in held_out}


def test_weights_follow_the_memory_type_and_confidence() -> None:
    def weight(memory_type: MemoryType, overall: float) -> float:
        entry = MemoryEntry(content="x", memory_type=memory_type, confidence=Confidence(overall=overall))
        return data.memory_weight(entry)

    assert weight(MemoryType.FACT, 0.8) == weight(MemoryType.PREFERENCE, 0.8) == 0.8
    assert weight(MemoryType.FACT, 0.8) > weight(MemoryType.BELIEF, 0.8) > weight(MemoryType.SKILL, 0.8)
    assert weight(MemoryType.SKILL, 0.8) == weight(MemoryType.CONTEXT, 0.8) > weight(MemoryType.EVENT, 0.8)
    assert weight(MemoryType.FACT, 0.4) == 0.4


def test_the_same_memories_give_the_same_dataset_hash(memory_service) -> None:  # type: ignore[no-untyped-def]
    _pipeline, first = _prepare(memory_service)
    _pipeline, second = _prepare(memory_service)
    assert first.sha256 == second.sha256 and first.memory_ids == second.memory_ids


def test_answers_speak_to_the_user_in_the_second_person() -> None:
    assert (
        data.second_person("I was born in Nice and my dog likes me") == "You were born in Nice and your dog likes you"
    )
    assert data.second_person("I'm tired; myself, I am fine") == "You're tired; yourself, you are fine"
