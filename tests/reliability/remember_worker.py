"""A writer for the crash tests: runs numbered operations and prints one line per acknowledged one.

``python -m tests.reliability.remember_worker HOME START`` performs operation START, START+1, ...
until killed. Each operation is idempotent under retry, as a careful client would make it, so the
one in flight when the process died can simply be run again. Output lines: ``ready``, then
``ack SEQ KIND ID [OLD_ID]`` once the operation has returned (and is therefore acknowledged).
"""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryEntry, Tier, content_hash
from personal_memory.pms.service import MemoryService, NewMemory


def content_of(seq: int) -> str:
    return f"durable memory number {seq} about topic {seq % 7}"


def correction_of(seq: int) -> str:
    return f"corrected memory number {seq} about topic {seq % 7}"


def long_term_id(seq: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"pmem-durability/{seq}")


def kind_of(seq: int) -> str:
    """Operations cycle: remember, remember, long-term write, correct (of the remember three back)."""
    return ("remember", "remember", "long", "correct")[seq % 4]


def run_one(service: MemoryService, seq: int) -> str:
    kind = kind_of(seq)
    if kind == "remember":
        return str(service.remember(NewMemory(content=content_of(seq))).entry.id)
    if kind == "long":
        return _write_long_term(service, seq)
    target = service.store(Tier.SHORT_TERM).find_by_hash(content_hash(content_of(seq - 3)))
    assert target is not None, f"memory {seq - 3} was acknowledged before this correction began"
    if target.superseded_by is not None:  # corrected by the run that died before acknowledging it
        return f"{target.superseded_by} {target.id}"
    return f"{service.correct(target.id, correction_of(seq)).new.id} {target.id}"


def _write_long_term(service: MemoryService, seq: int) -> str:
    memory_id = long_term_id(seq)
    store = service.store(Tier.LONG_TERM)
    if memory_id not in store.get_many([memory_id]):
        text = content_of(seq)
        vector = service.embedder.embed([text])[0].tolist()
        store.add(MemoryEntry(id=memory_id, content=text, tier=Tier.LONG_TERM, embedding=vector))
    return str(memory_id)


def main(home: Path, start: int) -> None:
    service = MemoryService(DataPaths(home), HashEmbedder())
    service.warm_up()  # open every tier first, so kills land in the writes, not in start-up
    print("ready", flush=True)
    seq = start
    while True:
        result = run_one(service, seq)
        print(f"ack {seq} {kind_of(seq)} {result}", flush=True)
        seq += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
