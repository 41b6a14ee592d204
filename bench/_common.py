"""Helpers shared by the bench scripts: result files and percentiles."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    import os

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` with the machine and time of the run."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **data}, indent=2))
    return path


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds."""
    arr = np.asarray(samples_s) * 1000.0
    return {f"p{p}": float(np.percentile(arr, p)) for p in (50, 95, 99)}
