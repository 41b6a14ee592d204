"""Context ranking: thread slots, features read from a memory's neighbours, the shipped weights, MCP threads."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from personal_memory.pms.context_ranking import FEATURES, Signals, features, lexical_query, load_model
from personal_memory.pms.ranking import Candidate
from personal_memory.pms.schema import ConversationRef, MemoryEntry, MemorySource, Tier, utcnow
from personal_memory.pms.service import MemoryService, NewMemory, RecallQuery
from personal_memory.tools.remember import SESSION_GAP, ClientThread


def _turn(turn: int, speaker: str, text: str) -> tuple[ConversationRef, MemoryEntry]:
    ref = ConversationRef(thread="chat-1", session=2, turn=turn, speaker=speaker)
    return ref, MemoryEntry(id=ref.at(turn), content=text, sources=[MemorySource(conversation=ref)])


def _candidate(entry: MemoryEntry, dense: float, text: float) -> Candidate:
    return Candidate(entry.id, Tier.SHORT_TERM, dense=dense, text=text, relevance=0.6 * dense + 0.4 * text, entry=entry)


def test_a_threaded_memory_id_is_derived_from_its_place_so_neighbours_need_no_lookup() -> None:
    ref = ConversationRef(thread="chat-1", session=2, turn=5)
    assert ref.at(5) == ConversationRef(thread="chat-1", session=2, turn=5, speaker="Ana").at(5)
    assert len({ref.at(4), ref.at(5), ref.at(6), ConversationRef(thread="chat-1", session=3, turn=5).at(5)}) == 4


def test_records_stored_before_threads_existed_still_load() -> None:
    old = '{"kind": "notes", "reference": "a.md:3", "timestamp": "2024-01-01T00:00:00Z", "reliability": 0.8}'
    assert MemorySource.model_validate_json(old).conversation is None


def test_a_turn_is_scored_with_its_neighbours_and_its_speaker() -> None:
    _, question = _turn(3, "Ana", "Did you go to the pottery class?")
    _, answer = _turn(4, "Ben", "Yes, I made a bowl there.")
    _, far = _turn(30, "Ben", "I made a bowl of soup.")
    pool = [_candidate(question, 0.7, 1.0), _candidate(far, 0.5, 0.2), _candidate(answer, 0.4, 0.0)]
    rows = features("What did Ben make at the pottery class?", pool, Signals.of(pool))
    column = {name: rows[:, i] for i, name in enumerate(FEATURES)}
    assert column["text_adjacent"][2] == 1.0 and column["text_adjacent"][1] == 0.0  # the answer sits by the match
    assert column["speaker_named"].tolist() == [0.0, 1.0, 1.0]
    assert column["other_speaker_named"].tolist() == [1.0, 0.0, 0.0]


def test_a_memory_outside_any_thread_is_its_own_context() -> None:
    entry = MemoryEntry(content="I am allergic to peanuts")
    pool = [_candidate(entry, 0.8, 1.0)]
    row = dict(zip(FEATURES, features("what food must I avoid", pool, Signals.of(pool))[0], strict=True))
    assert row["dense_window"] == row["dense_session"] == row["dense"] and row["text_adjacent"] == row["text"]


def test_question_words_are_left_out_of_the_full_text_query_unless_nothing_else_is_left() -> None:
    assert lexical_query("When did Caroline go to the LGBTQ support group?") == "Caroline go LGBTQ support group"
    assert lexical_query("what is it?") == "what is it"


def test_the_shipped_weights_fit_the_features_the_code_computes() -> None:
    model = load_model()
    assert model.features == FEATURES and len(model.weights) == len(FEATURES) and model.trained_on


def test_mcp_remembers_form_one_thread_with_a_new_session_after_a_pause() -> None:
    thread, now = ClientThread(), utcnow()
    refs = [thread.next(now), thread.next(now + timedelta(minutes=5)), thread.next(now + SESSION_GAP * 3)]
    assert [(r.session, r.turn) for r in refs] == [(0, 0), (0, 1), (1, 0)]
    assert len({r.thread for r in refs}) == 1 and ClientThread().thread != thread.thread


def test_a_threaded_turn_found_through_its_neighbour_comes_back_from_recall(fake_service: MemoryService) -> None:
    turns = ["Did you finally visit the new aquarium downtown?", "Yes, on Saturday, with my two nephews.", "Nice."]
    for i, text in enumerate(turns):
        ref = ConversationRef(thread="t", session=0, turn=i, speaker="Sam" if i % 2 else "Lee")
        fake_service.remember(NewMemory(text, source=MemorySource(kind="conversation", conversation=ref)))
    fake_service.remember(NewMemory("My nephews love football"))
    found = [h.entry.id for h in fake_service.recall(RecallQuery("aquarium visit", limit=3))]
    assert ConversationRef(thread="t", session=0, turn=1).at(1) in found
    assert all(isinstance(i, UUID) for i in found)
