"""Context ranking: thread slots, features read from a memory's neighbours, the shipped weights, MCP threads."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from personal_memory.pms.context_features import FEATURES, Signals, features, lexical_query
from personal_memory.pms.context_ranking import ContextRanker, load_model
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


def test_a_turn_whose_window_holds_the_question_words_ranks_first_by_window_bm25() -> None:
    _, asked = _turn(3, "Ana", "Did you go to the pottery class?")
    _, answer = _turn(4, "Ben", "Yes, I made a bowl there.")
    _, far = _turn(30, "Ben", "I made soup.")
    _, after = _turn(5, "Ana", "Lovely, show me the pottery bowl!")
    scored = ((answer, 0.4, 0.0), (far, 0.5, 0.2), (asked, 0.0, 0.0), (after, 0.0, 0.0))
    pool = [_candidate(entry, dense, text) for entry, dense, text in scored]
    rows = features("What did Ben make at the pottery class?", pool, Signals.of(pool))
    window = rows[:, FEATURES.index("bm25_window")]
    assert window[0] == window.max() and window[1] == 0.0  # its neighbours speak of the pottery class; far's do not


def test_a_when_question_favours_turns_that_speak_of_time() -> None:
    _, dated = _turn(1, "Ana", "I ran the Lisbon marathon last week.")
    _, plain = _turn(8, "Ana", "I love the Lisbon marathon.")
    pool = [_candidate(dated, 0.5, 0.5), _candidate(plain, 0.5, 0.5)]
    when = features("When did Ana run the Lisbon marathon?", pool, Signals.of(pool))
    what = features("Which marathon did Ana run?", pool, Signals.of(pool))
    column = FEATURES.index("when_time_words")
    assert when[:, column].tolist() == [1.0, 0.0] and what[:, column].tolist() == [0.0, 0.0]


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


def test_the_ranker_adds_the_turns_around_its_pool_in_one_batch_and_leaves_atomic_pools_alone() -> None:
    _, asked = _turn(3, "Ana", "Did you go to the pottery class?")
    _, answer = _turn(4, "Ben", "Yes, I made a bowl there.")
    stored = {asked.id: asked, answer.id: answer}
    batches: list[list[UUID]] = []

    def attach(cands: list[Candidate]) -> None:
        batches.append([c.memory_id for c in cands])
        for cand in cands:
            cand.entry = stored.get(cand.memory_id)

    ranker = ContextRanker()
    pool = {answer.id: Candidate(answer.id, Tier.SHORT_TERM, dense=0.4, relevance=0.3)}
    ranked = ranker.rerank("pottery class", pool, attach, whole=False)
    assert {c.memory_id for c in ranked} == {answer.id, asked.id}  # the neighbour joins the pool
    assert len(batches) == 2 and asked.id in batches[1]  # the pool, then its neighbours at once

    batches.clear()
    notes = [MemoryEntry(content=f"note {i}") for i in range(3)]
    stored.update({n.id: n for n in notes})
    atomic = {n.id: Candidate(n.id, Tier.SHORT_TERM, dense=0.1 * i, relevance=0.1 * i) for i, n in enumerate(notes)}
    ranked = ranker.rerank("note", atomic, attach, whole=False)
    assert [c.memory_id for c in ranked] == [n.id for n in reversed(notes)] and len(batches) == 1
