"""The loop closes: the trained PLM takes part in context generation, with the fast path as fallback.

``PLMContextGenerator`` implements ``plm.interfaces.ContextGenerator``. It loads the base model with the
active adapter in a background thread (the server never waits for torch); until then, or when loading
fails, it returns exactly what the template generator returns. Once loaded, it also asks the personal
model what matters about the user for the query and adds its answer as a context line, but only when
the answer can be traced to one of the retrieved memories (token F1 >= ``TRACE_MIN_F1``): an answer
that no memory supports is dropped, so the PLM can add emphasis but never invent facts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personal_memory.plm.data import TRAIN_TEMPLATES
from personal_memory.plm.interfaces import ContextGenerator, ContextLine
from personal_memory.pms.schema import MemoryEntry

logger = logging.getLogger(__name__)

TRACE_MIN_F1 = 0.5


@dataclass(frozen=True, slots=True)
class PLMLine:
    text: str
    memory_ids: list[str]
    section: str = "context"


class PLMContextGenerator:
    def __init__(self, base_folder: Path, adapter: Path, fallback: ContextGenerator, threads: int = 1) -> None:
        self._base_folder = base_folder
        self._adapter = adapter
        self._fallback = fallback
        self._threads = threads
        self._model: Any | None = None
        self._failed = False
        self._started = threading.Event()
        self._loaded = threading.Event()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def start_loading(self) -> threading.Event:
        """Load the model in a daemon thread (once); the returned event is set when loading has ended."""
        if not self._started.is_set():
            self._started.set()
            threading.Thread(target=self._load, name="pmem-plm-load", daemon=True).start()
        return self._loaded

    def _load(self) -> None:
        from personal_memory.plm.inference import PersonalModel

        try:
            self._model = PersonalModel.load(self._base_folder, self._adapter, self._threads)
        except Exception:  # any failure leaves the fast path in charge; top-level handler of this thread
            self._failed = True
            logger.exception("The personal model could not be loaded; context stays template-only")
        finally:
            self._loaded.set()

    def generate(self, query: str | None, memories: Sequence[MemoryEntry]) -> Sequence[ContextLine]:
        lines = list(self._fallback.generate(query, memories))
        if self._model is None:
            self.start_loading()
            return lines
        if not query or not memories:
            return lines
        # Asked the way the PLM was trained to be asked (plm.data's templates), about the query.
        question = TRAIN_TEMPLATES[1].format(topic=query.strip().rstrip("?.!"))
        answer = " ".join(self._model.answer(question, max_new_tokens=48).split())
        traced = _best_support(answer, memories)
        if traced is not None:
            lines.append(PLMLine(text=f"Personal model: {answer}", memory_ids=[str(traced.id)]))
        return lines


def _best_support(answer: str, memories: Sequence[MemoryEntry]) -> MemoryEntry | None:
    """The retrieved memory the answer agrees with best, if it agrees enough to be traced to it."""
    from personal_memory.plm.data import second_person
    from personal_memory.plm.evaluate import token_f1

    if not answer:
        return None
    scored = [(max(token_f1(answer, m.content), token_f1(answer, second_person(m.content))), m) for m in memories]
    best_f1, best = max(scored, key=lambda pair: pair[0])
    return best if best_f1 >= TRACE_MIN_F1 else None
