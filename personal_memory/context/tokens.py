"""Count tokens for the context budget with a real tokenizer: MiniLM's WordPiece, already on disk.

Why this one: it ships with the embedding model (no download, about 80 ms to load once per process),
and its 30k-piece vocabulary splits English into at least as many pieces as the 100k-200k
vocabularies of the BPE tokenizers behind Claude, GPT-4 and Llama 3, so a budget counted with it errs
on the safe side.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from personal_memory.pms.embedding import default_model_dir

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@lru_cache(maxsize=2)
def _tokenizer(model_dir: Path | None) -> Tokenizer:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str((model_dir or default_model_dir()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def count_tokens(text: str, model_dir: Path | None = None) -> int:
    """Word pieces in ``text``, without the [CLS]/[SEP] markers."""
    return len(_tokenizer(model_dir).encode(text, add_special_tokens=False).ids)
