"""A tiny Llama-architecture model and tokenizer built locally (no hub), and a person's memories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from personal_memory.plm import data
from personal_memory.pms.embedding import HashEmbedder
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryType
from personal_memory.pms.service import MemoryService, NewMemory

MEMORIES: list[tuple[str, MemoryType, list[str]]] = [
    ("I live in Lyon with my two cats", MemoryType.FACT, []),
    ("I prefer tabs over spaces in Python code", MemoryType.PREFERENCE, []),
    ("My sister Alice is a marine biologist", MemoryType.FACT, ["Alice"]),
    ("I believe unit tests should run in seconds", MemoryType.BELIEF, []),
    ("I can speak Portuguese fluently", MemoryType.SKILL, []),
    ("I ran the Berlin marathon in 2023", MemoryType.EVENT, []),
    ("I work on government websites built with Drupal", MemoryType.CONTEXT, []),
    ("My favourite food is mushroom risotto", MemoryType.PREFERENCE, []),
]
CORRECTION = ("I live in Lyon with my two cats", "I live in Porto with my two cats")


def fill(service: MemoryService) -> None:
    """Remember ``MEMORIES`` and apply ``CORRECTION``: the person moved."""
    ids = {}
    for content, memory_type, entities in MEMORIES:
        ids[content] = service.remember(NewMemory(content, memory_type=memory_type, entities=entities)).entry.id
    service.correct(ids[CORRECTION[0]], CORRECTION[1], reason="moved")


@pytest.fixture
def memory_service(paths: DataPaths) -> Iterator[MemoryService]:
    service = MemoryService(paths, HashEmbedder())
    fill(service)
    yield service
    service.close()


def _corpus() -> list[str]:
    texts = [c for c, _t, _e in MEMORIES] + [CORRECTION[1]]
    texts += [data.second_person(t) for t in texts]
    templates = [*data.TRAIN_TEMPLATES, *data.TYPE_TEMPLATES.values(), *data.EVAL_TEMPLATES]
    texts += [t.replace("{topic}", " ") for t in templates]
    texts += ["### Instruction:\n\n\n### Response:\n", data.SYSTEM_PROMPT]
    return texts


def build_tiny_llama(folder: Path) -> Path:
    """Save a 2-layer, 64-wide Llama and a word-level tokenizer trained on the test text into ``folder``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(
        [t.lower() + " " + t for t in _corpus()], trainers.WordLevelTrainer(special_tokens=specials)
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
