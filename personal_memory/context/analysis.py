"""Rule-based query analysis: domains from the shared lexicon, intent from weighted cue phrases.

It implements ``plm.interfaces.QueryAnalyzer``; a trained PLM replaces it behind the same interface.
Everything is precompiled regular expressions: well under a millisecond per query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from personal_memory.context.models import Intent, QueryInsight
from personal_memory.pms.domains import detect_domains

# Each cue is a regular expression (matched case-insensitively on word boundaries) and a weight.
INTENT_CUES: Mapping[Intent, tuple[tuple[str, float], ...]] = {
    Intent.TECHNICAL_GUIDANCE: (
        (r"how (do|should|can|would) (i|we|you)\b.*\b(implement|structure|write|fix|debug|configure|set up|"
         r"deploy|test|refactor|design|build|migrate|optimi[sz]e|handle|use)", 2.0),
        (r"(implement|refactor|debug|deploy|configure|install|compile|migrate|optimi[sz]e)\w*", 1.0),
        (r"(code|function|class|module|library|framework|api|endpoint|schema|query|bug|error|exception|stack "
         r"trace|test suite|unit test|pull request|repo|script|codebase|database|server|container)s?", 1.0),
        (r"best practices?|design pattern|architecture", 1.0),
    ),
    Intent.RECOMMENDATION: (
        (r"recommend\w*|suggest\w*|ideas? for|any tips", 2.0),
        (r"what (should|could|can) i (eat|cook|read|watch|buy|get|listen to|try|wear|make|order|play|gift|give)", 2.0),
        (r"(which|what) .{0,30}\b(should i (pick|choose|buy|get|try|use)|would (i|you) like)", 1.5),
        (r"(good|best|nice|favou?rite) (book|movie|film|restaurant|place|recipe|gift|album|show|game)s?", 1.5),
        (r"gift|present for", 1.0),
    ),
    Intent.PERSONAL_FACT: (
        (r"(what|where|when|who|which|how old|how many) (is|are|was|were|do|did|does) (my|i)\b", 2.0),
        (r"(what|who) am i", 2.0),
        (r"do you (know|remember)|remind me|what do you know about me", 2.0),
        (r"\bmy (name|age|birthday|address|wife|husband|partner|daughter|son|kids?|children|mother|father|"
         r"sister|brother|dog|cat|job|employer|allerg\w*)\b", 1.0),
        (r"am i|do i (have|live|work|own|like)", 1.0),
    ),
    Intent.PLANNING: (
        (r"plan\w*|schedule\w*|itinerary|agenda|organi[sz]e|prepare for|roadmap", 2.0),
        (r"(next|this) (week|month|year|weekend|summer|winter|spring|autumn)|tomorrow|tonight|upcoming", 1.0),
        (r"trip|vacation|holiday|birthday party|wedding|move to|moving", 1.0),
        (r"goals?|budget for|deadline|to-?do", 1.0),
    ),
    Intent.CASUAL: (
        (r"^(hi|hello|hey|yo|good (morning|afternoon|evening))\b", 2.0),
        (r"how are you|what'?s up|thanks?( you)?|tell me a joke|just chatting|lol", 2.0),
    ),
}
# Technical domains nudge an otherwise ambiguous question towards technical guidance.
TECHNICAL_DOMAINS = frozenset(
    {"python", "javascript", "react", "drupal", "php", "rust", "go", "java", "devops", "databases",
     "machine learning", "programming", "architecture", "security"}
)
TECHNICAL_DOMAIN_WEIGHT = 1.0
# With no cue at all the query is treated as casual, with this (low) confidence.
FALLBACK_CONFIDENCE = 0.3


@lru_cache(maxsize=1)
def _compiled() -> dict[Intent, list[tuple[re.Pattern[str], float]]]:
    return {
        intent: [(re.compile(r"(?<!\w)(?:" + cue + r")(?!\w)", re.IGNORECASE), weight) for cue, weight in cues]
        for intent, cues in INTENT_CUES.items()
    }


def intent_scores(query: str, domains: list[str]) -> dict[Intent, float]:
    """Sum of the weights of the cues each intent finds in the query."""
    scores = {intent: sum(w for pattern, w in cues if pattern.search(query)) for intent, cues in _compiled().items()}
    if TECHNICAL_DOMAINS.intersection(domains):
        scores[Intent.TECHNICAL_GUIDANCE] += TECHNICAL_DOMAIN_WEIGHT
    return scores


class RuleQueryAnalyzer:
    """Domains from ``pms.domains``; the intent whose cues weigh most; confidence from the margin."""

    def analyze(self, query: str) -> QueryInsight:
        domains = detect_domains(query)
        scores = intent_scores(query, domains)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (best, top), (_, runner_up) = ranked[0], ranked[1]
        if top <= 0:
            return QueryInsight(domains=domains, intent=Intent.CASUAL, confidence=FALLBACK_CONFIDENCE)
        # Confidence grows with the winning score and with its lead over the runner-up.
        confidence = (top - runner_up + 1.0) / (top + 1.5)
        return QueryInsight(domains=domains, intent=best, confidence=round(min(0.99, max(0.34, confidence)), 2))
