"""The load bench at smoke size: four real stdio servers on one data dir, a few seconds, nothing lost."""

from __future__ import annotations

from pathlib import Path

from bench.load import main


def test_four_concurrent_stdio_clients_get_no_errors_and_lose_no_write(tmp_path: Path) -> None:
    result = main(
        ["--clients", "4", "--seconds", "3", "--embedder", "hash", "--embedder-cache", str(tmp_path), "--no-save"]
    )
    assert result["errors"] == 0, result["error_samples"]
    assert result["lost_writes"] == 0 and result["duplicated_writes"] == 0
    assert result["counts"]["remember"] > 0 and result["counts"]["recall"] > 0
    assert result["acknowledged_writes"] == result["counts"]["remember"]
    assert {"p50", "p95", "p99"} <= set(result["latency_ms"]["all"])
