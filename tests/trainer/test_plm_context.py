"""Once an adapter exists, the PLM takes part in context generation; the template path is the fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from anyio import fail_after, sleep
from mcp import Client

from personal_memory.config import Settings, load_settings
from personal_memory.container import build_pipeline, build_plm_generator, build_service
from personal_memory.context.generator import TemplateGenerator
from personal_memory.plm.evaluate import token_f1
from personal_memory.plm.lora import TrainConfig
from personal_memory.pms.service import RecallQuery
from personal_memory.server.app import build_server
from tests.plm.conftest import build_tiny_llama, fill

FAST = TrainConfig(epochs=30, gradient_accumulation=1, learning_rate=3e-3, threads=1)
QUERIES = ["sister alice", "tabs spaces python code", "favourite food", "speak portuguese", "berlin marathon"]


@pytest.fixture(scope="module")
def trained_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A data dir with the tiny model's adapter trained on a person's memories (once for the module)."""
    tmp = tmp_path_factory.mktemp("plm-context")
    base = build_tiny_llama(tmp / "tiny")
    settings = load_settings(home=tmp / "home", embedder="hash", base_model=str(base), plm_context=True,
                             train_threads=1)  # fmt: skip
    service = build_service(settings)
    fill(service)
    pipeline = build_pipeline(settings)
    pipeline.prepare(service)
    pipeline.run(FAST)
    service.close()
    return settings


def test_without_an_adapter_or_with_the_option_off_there_is_no_plm_generator(tmp_path: Path) -> None:
    assert build_plm_generator(load_settings(embedder="hash")) is None
    assert build_plm_generator(load_settings(embedder="hash", plm_context=True, base_model=str(tmp_path))) is None


def test_the_plm_adds_a_traced_line_once_loaded_and_falls_back_before(trained_settings: Settings) -> None:
    service = build_service(trained_settings)
    generator = build_plm_generator(trained_settings)
    assert generator is not None and not generator.loaded
    added: list[tuple[str, str]] = []
    for query in QUERIES:
        memories = [h.entry for h in service.recall(RecallQuery(query, limit=3))]
        template = [line.text for line in TemplateGenerator().generate(query, memories)]
        if not generator.loaded:
            assert [line.text for line in generator.generate(query, memories)] == template  # the fallback
            assert generator.start_loading().wait(120) and generator.loaded
        lines = generator.generate(query, memories)
        assert [line.text for line in lines[: len(template)]] == template
        for line in lines[len(template) :]:
            (memory_id,) = line.memory_ids
            added.append((line.text, next(m.content for m in memories if str(m.id) == memory_id)))
    assert added, "the trained PLM added no traceable line for any query"
    for text, source in added:  # traced means: the answer restates the memory it is traced to
        assert text.startswith("Personal model: ") and token_f1(text, source) >= 0.4
    service.close()


@pytest.mark.anyio
async def test_the_profile_tool_serves_the_plm_line_when_configured(trained_settings: Settings) -> None:
    async with Client(build_server(trained_settings, warm_up=False)) as client:
        with fail_after(180):  # loading competes for the CPU with the test itself
            while not await _has_plm_line(client):
                await sleep(0.2)  # the model loads in the background; the template path answers meanwhile


async def _has_plm_line(client: Client) -> bool:
    for query in QUERIES:
        result = await client.call_tool("profile", {"query": query, "format": "markdown"})
        assert not result.is_error, result.content
        if "Personal model:" in result.structured_content["profile"]:  # type: ignore[index]
            return True
    return False
