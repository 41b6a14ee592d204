"""Distillation loss and soft-target sources, checked against numbers worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch

from personal_memory.plm.base_model import load_tokenizer
from personal_memory.plm.distill import (
    SoftTargetSource,
    TeacherRecord,
    TeacherToken,
    distillation_loss,
    teacher_item,
    teacher_records,
)
from personal_memory.pms.interaction_log import InteractionLog


def test_distillation_loss_matches_a_hand_computed_example() -> None:
    # One answer token (label 0) predicted at position 0; two-word vocabulary; T = 2, alpha = 0.5.
    student = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])
    teacher = torch.tensor([[[0.0, 2.0], [0.0, 0.0]]])
    labels = torch.tensor([[-100, 0]])
    # At T = 2: p_student = softmax([1, 0]) = [e, 1] / (e + 1); p_teacher = [1, e] / (e + 1).
    # KL(teacher || student) = (e - 1) / (e + 1) * ln(e) = tanh(1/2) = 0.462117; times T^2 = 1.848469.
    # Hard CE at T = 1: -ln(e^2 / (e^2 + 1)) = ln(1 + e^-2) = 0.126928.
    # Loss = 0.5 * 1.848469 + 0.5 * 0.126928 = 0.987699.
    assert distillation_loss(student, labels, teacher).item() == pytest.approx(0.987699, abs=1e-6)
    assert 0.5 * 4 * math.tanh(0.5) + 0.5 * math.log1p(math.exp(-2)) == pytest.approx(0.987699, abs=1e-6)


def test_without_a_teacher_the_loss_is_the_hard_target_cross_entropy() -> None:
    student = torch.tensor([[[2.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    labels = torch.tensor([[-100, 0], [-100, 1]])
    no_teacher = torch.full((2, 2, 2), float("-inf"))
    expected = [math.log1p(math.exp(-2)), math.log(2)]
    assert distillation_loss(student, labels).tolist() == pytest.approx(expected)
    assert distillation_loss(student, labels, no_teacher).tolist() == pytest.approx(expected)


def test_top_k_soft_targets_cover_only_the_logged_alternatives() -> None:
    # Teacher mass only on token 1 at T = 2 -> KL = -log p_student(1) at T = 2 = ln(1 + e).
    student = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])
    teacher = torch.tensor([[[float("-inf"), -0.1], [float("-inf"), float("-inf")]]])
    labels = torch.tensor([[-100, 1]])
    kl = math.log1p(math.e) * 4
    ce = math.log1p(math.exp(2))
    assert distillation_loss(student, labels, teacher).item() == pytest.approx(0.5 * kl + 0.5 * ce, abs=1e-5)


def test_logged_top_k_logprobs_land_on_the_student_positions_of_the_same_words(tiny_llama: Path) -> None:
    tokenizer = load_tokenizer(tiny_llama)
    tokens = [
        TeacherToken(token="You", top_logprobs={"You": -0.1, "Your": -2.5}),
        TeacherToken(token=" live", top_logprobs={" live": -0.2, "xyz-not-a-word": -3.0}),
        TeacherToken(token=" in Porto", top_logprobs={" in Porto": -0.1}),
    ]
    record = TeacherRecord(query="Where do I live?", response="You live in Porto", teacher_model="gpt", tokens=tokens)
    item = teacher_item(tokenizer, record, local_teacher=False)
    assert item.source is SoftTargetSource.TOP_K
    ids = {w: tokenizer.convert_tokens_to_ids(w) for w in ("You", "Your", "live")}
    first = item.encoded.prompt_len - 1
    assert item.top_k[first] == {ids["You"]: -0.1, ids["Your"]: -2.5}
    assert item.top_k[first + 1] == {ids["live"]: -0.2}  # an alternative that is no student token is dropped
    assert first + 2 not in item.top_k  # " in Porto" is two student tokens: no single-token alternative
    plain = teacher_item(tokenizer, record.model_copy(update={"tokens": None}), local_teacher=True)
    assert plain.source is SoftTargetSource.LOCAL_TEACHER


def test_teacher_interactions_are_read_from_the_interaction_log(tmp_path: Path) -> None:
    log = InteractionLog(tmp_path / "interactions.sqlite")
    now = datetime.now(UTC)
    log.append(now, "recall", {"query": "cats"}, {"count": 1}, [])
    log.append(now, "ask", {"query": "Where do I live?"}, {"response": "In Porto."}, [], teacher_model="claude")
    log.append(now, "ask", {"query": "x"}, {}, [], teacher_model="claude")  # no response: nothing to learn
    records = teacher_records(log.read())
    log.close()
    assert [(r.query, r.response, r.teacher_model) for r in records] == [("Where do I live?", "In Porto.", "claude")]
