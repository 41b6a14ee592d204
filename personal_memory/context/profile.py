"""Build the personal context: analyze the query, retrieve memories, generate traceable lines.

SEED.md's inference flow, steps 1-3; ``formats`` does step 4. The analyzer and the generator are the
seams a trained PLM takes over (``plm.interfaces``); today they are fast deterministic rules.
"""

from __future__ import annotations

from uuid import UUID

from personal_memory.context import DEFAULT_MAX_TOKENS
from personal_memory.context.analysis import RuleQueryAnalyzer
from personal_memory.context.exporters.plain import Target
from personal_memory.context.formats import Rendered, render_within
from personal_memory.context.generator import TemplateGenerator
from personal_memory.context.models import ContextItem, Intent, PersonalContext, QueryInsight
from personal_memory.context.retrieval import DEFAULT_PROFILE_LIMIT, DEFAULT_QUERY_LIMIT, for_query, whole_profile
from personal_memory.plm.interfaces import ContextGenerator, QueryAnalyzer
from personal_memory.pms.service import MemoryService


def build_profile(
    service: MemoryService,
    query: str | None = None,
    limit: int | None = None,
    analyzer: QueryAnalyzer | None = None,
    generator: ContextGenerator | None = None,
) -> PersonalContext:
    """The context for ``query`` (top 10 memories by default), or the whole profile (top 40) without one."""
    query = query.strip() if query and query.strip() else None
    insight: QueryInsight | None = None
    if query is None:
        ranked = whole_profile(service, limit or DEFAULT_PROFILE_LIMIT)
    else:
        found = (analyzer or RuleQueryAnalyzer()).analyze(query)
        insight = QueryInsight(domains=list(found.domains), intent=Intent(found.intent), confidence=found.confidence)
        ranked = for_query(service, query, insight, limit or DEFAULT_QUERY_LIMIT)
    entries = [r.entry for r in ranked]
    confidence = {str(e.id): e.confidence.overall for e in entries}
    lines = (generator or TemplateGenerator()).generate(query, entries)
    items = [
        ContextItem(
            text=line.text,
            memory_ids=list(line.memory_ids),
            section=line.section,
            confidence=round(min(confidence[i] for i in line.memory_ids), 3),
            rank=rank,
        )
        for rank, line in enumerate(lines, start=1)
    ]
    return PersonalContext(query=query, analysis=insight, generated_at=service.clock(), items=items)


def personal_context(
    service: MemoryService,
    query: str | None,
    fmt: str,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    limit: int | None = None,
    target: Target | None = None,
    generator: ContextGenerator | None = None,
) -> Rendered:
    """What every surface (tool, resources, prompt, CLI) serves: the context, formatted, within budget.

    For a query, the memories that made it into the context count as accessed (promotion uses it).
    """
    rendered = render_within(build_profile(service, query, limit, generator=generator), fmt, max_tokens, target)
    if rendered.context.query:
        service.touch([UUID(i) for item in rendered.context.items for i in item.memory_ids])
    return rendered
