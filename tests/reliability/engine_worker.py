"""A worker process for the two-process tests: writes memories, or runs one promotion pass.

``python -m tests.reliability.engine_worker write HOME NAME COUNT`` remembers COUNT memories (every
third one validated) and prints ``ack ID`` once each has returned. ``... promote HOME ISO_TIME`` runs
the promotion engine once at that time and prints ``moved ID RULE`` per move.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.promotion import PromotionEngine
from personal_memory.pms.service import MemoryService, NewMemory


def write(service: MemoryService, name: str, count: int) -> None:
    for i in range(count):
        entry = service.remember(NewMemory(content=f"{name} wrote note {i} about topic {name}{i}")).entry
        if i % 3 == 0:
            service.validate(entry.id)
        print(f"ack {entry.id}", flush=True)


def promote(service: MemoryService) -> None:
    for decision in PromotionEngine(service).run():
        print(f"moved {decision.memory_id} {decision.rule.value}", flush=True)


def main(mode: str, home: Path, *rest: str) -> None:
    if mode == "write":
        service = MemoryService(DataPaths(home), HashEmbedder())
        service.warm_up()
        print("ready", flush=True)
        write(service, rest[0], int(rest[1]))
    else:
        now = datetime.fromisoformat(rest[0])
        service = MemoryService(DataPaths(home), HashEmbedder(), clock=lambda: now)
        service.warm_up()
        promote(service)
    service.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), *sys.argv[3:])
