"""``pmem backup`` while another process keeps writing: a consistent, complete, intact copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from tests.reliability.crash_harness import REPO, Acks, assert_nothing_lost


def test_backup_of_a_live_data_dir_holds_every_write_acknowledged_before_it(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMEM_EMBEDDER", "hash")
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.remember_worker", str(isolated_home), "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert writer.stdout is not None
    acks = Acks()
    try:
        assert writer.stdout.readline() == "ready\n"
        for _ in range(24):  # every kind of write has happened, and the writer is still going
            acks.record(writer.stdout.readline())
        result = CliRunner().invoke(main, ["backup", str(tmp_path / "snapshot" / "data")], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert writer.poll() is None, "the writer must still be running after the backup"
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    assert_nothing_lost(tmp_path / "snapshot", acks)
    refused = CliRunner().invoke(main, ["backup", str(tmp_path / "snapshot" / "data")])
    assert refused.exit_code == 1 and "already exists" in refused.output
