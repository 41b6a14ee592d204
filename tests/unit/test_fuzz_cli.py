"""Fuzzing the CLI with hostile arguments: exit 0, or a clean usage/domain error; never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personal_memory.cli import main
from personal_memory.config import load_settings
from tests.reliability.hostile import hostile_text, memory_ids
from tests.unit.test_fuzz_tools import snapshot

FUZZ = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
MUTATING = {"remember", "correct", "forget"}

options = st.lists(
    st.sampled_from(["--type", "--truth", "--tag", "--domain", "--tier", "-n", "--limit", "--format", "--json", "-q"]),
    max_size=3,
)
command_lines = st.one_of(
    st.tuples(st.just("remember"), hostile_text).map(list),
    st.tuples(st.just("recall"), hostile_text).map(list),
    st.tuples(st.just("correct"), memory_ids, hostile_text).map(list),
    st.tuples(st.just("forget"), memory_ids).map(list),
    st.tuples(st.just("profile"), st.just("-q"), hostile_text).map(list),
).flatmap(
    lambda words: st.tuples(options, st.lists(hostile_text, max_size=2)).map(lambda extra: words + extra[0] + extra[1])
)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    result = CliRunner().invoke(main, ["remember", "I prefer tabs over spaces"])
    assert result.exit_code == 0, result.output
    return CliRunner()


def test_every_command_answers_hostile_arguments_cleanly(runner: CliRunner) -> None:
    app_settings = load_settings(embedder="hash")

    @FUZZ
    @given(args=command_lines)
    def answers(args: list[str]) -> None:
        before = snapshot(app_settings)
        result = runner.invoke(main, args)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        if result.exit_code != 0 or args[0] not in MUTATING:
            assert snapshot(app_settings) == before, args

    answers()


@pytest.mark.parametrize(
    "args",
    [
        ["remember", "lone \udc80 surrogate from a mis-decoded argv"],
        ["recall", "\udcff\udcfe"],
        ["recall", '"NEAR(" OR *'],
        ["correct", "'; DROP TABLE memories; --", "x"],
        ["forget", "id = 'x' OR true"],
        ["remember", "z" * 100_000],
    ],
)
def test_hostile_command_lines_exit_with_a_message(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0 or "Error" in result.output
