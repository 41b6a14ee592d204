"""The LoCoMo bench runs end to end on a tiny conversation in the LoCoMo layout and prints its machine-read line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SESSIONS = [
    (
        "1:56 pm on 8 May, 2023",
        [
            ("Ana", "Hi Ben! I went to a pottery class yesterday and made my first bowl."),
            ("Ben", "That's great! I have been training for the Lisbon marathon all month."),
            ("Ana", "Wow. How far do you run each week?"),
            ("Ben", "About forty kilometres, mostly along the river."),
        ],
    ),
    (
        "10:00 am on 20 May, 2023",
        [
            ("Ana", "My sister Clara moved to Oslo for a new job."),
            ("Ben", "Oslo is lovely. Does she like the cold?"),
            ("Ana", "Not at all, she misses the sun."),
        ],
    ),
]
QUESTIONS = [
    {"question": "What did Ana make at her pottery class?", "answer": "a bowl", "evidence": ["D1:1"], "category": 4},
    {"question": "Which marathon is Ben training for?", "answer": "Lisbon", "evidence": ["D1:2"], "category": 4},
    {"question": "How far does Ben run each week?", "answer": "40 km", "evidence": ["D1:4"], "category": 1},
    {"question": "Where did Ana's sister move?", "answer": "Oslo", "evidence": ["D:2:01"], "category": 2},
]


def _tiny(target: Path) -> Path:
    talk: dict[str, object] = {"speaker_a": "Ana", "speaker_b": "Ben"}
    for number, (date, turns) in enumerate(SESSIONS, start=1):
        talk[f"session_{number}_date_time"] = date
        talk[f"session_{number}"] = [
            {"speaker": who, "dia_id": f"D{number}:{i}", "text": text} for i, (who, text) in enumerate(turns, start=1)
        ]
    target.write_text(json.dumps([{"sample_id": "tiny-1", "conversation": talk, "qa": QUESTIONS}]))
    return target


def test_the_locomo_bench_prints_every_line_and_ends_with_the_recall_line(tmp_path: Path, embedder_cache: Path) -> None:
    command = [
        sys.executable,
        str(ROOT / "bench" / "locomo.py"),
        "--data",
        str(_tiny(tmp_path / "tiny.json")),
        "--cache",
        str(tmp_path / "cache"),
        "--embedder-cache",
        str(embedder_cache),
        "--results-name",
        "locomo-smoke",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.strip().splitlines()
    for name in ("bm25-stemmed", "minilm-cosine", "product (shipped reranker)", "flat: MCP remember/recall"):
        assert any(line.startswith(name) for line in lines), run.stdout
    assert "4 questions" in run.stdout  # the malformed evidence id 'D:2:01' was normalised, not dropped
    assert re.fullmatch(r"locomo: recall@5=\d\.\d{3} recall@10=\d\.\d{3}", lines[-1])
