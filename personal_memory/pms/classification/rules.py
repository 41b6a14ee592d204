"""Cue phrases for memory types and truth categories: fast, explainable evidence for the classifier.

Each cue is a regular expression matched on lower-cased text; a type's rule score is the number of
its cues that match. Rules carry the clear cases ("I prefer", "yesterday", "I believe"); the
prototype similarity decides where no cue speaks or several do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from personal_memory.pms.schema import MemoryType, TruthCategory

_MONTHS = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"

# fmt: off
TYPE_CUES: Mapping[MemoryType, tuple[str, ...]] = {
    MemoryType.PREFERENCE: (
        r"\bprefers?\b", r"\bprefer(?:red|ring)\b", r"\bfavou?rite\b",
        r"\b(?:i|we) (?:really )?(?:like|love|enjoy|adore)\b",
        r"\b(?:i|we) (?:hate|dislike|detest|loathe)\b", r"\bcan'?t stand\b", r"\bwould rather\b", r"\bfan of\b",
        r"\bgo-to\b", r"\brather than\b", r"\binstead of\b", r"\bnot a fan\b", r"\b(?:likes|loves|enjoys|hates)\b",
    ),
    MemoryType.SKILL: (
        r"\bi can\b", r"\bable to\b", r"\bknow how\b", r"\bfluent\b", r"\bproficient\b", r"\bexperienced\b",
        r"\bexpert\b", r"\byears of experience\b", r"\bi speak\b", r"\bgood at\b", r"\bskilled\b", r"\bcertified\b",
        r"\bi know (?!that)\w+", r"\bcan (?:write|code|play|cook|drive|read|program|build|debug|speak)\b",
        r"\bexperience (?:with|in)\b", r"\bmastered\b", r"\bcompetent\b", r"\bhave built\b",
    ),
    MemoryType.EVENT: (
        r"\byesterday\b", r"\blast (?:week|month|year|night|weekend|summer|winter|spring|autumn|fall)\b",
        r"\b(?:this|last) " + _WEEKDAYS + r"\b", r"\bon " + _WEEKDAYS + r"\b", r"\bago\b", r"\btoday\b",
        r"\b(?:went|visited|attended|met|gave|finished|started|got|had|took|won|lost|ran|flew|bought|moved)\b",
        r"\bwas (?:promoted|hired|fired|diagnosed|married)\b", r"\bearlier (?:today|this)\b",
    ),
    MemoryType.BELIEF: (
        r"\bi (?:firmly |strongly )?believe\b", r"\bi think\b", r"\bin my (?:opinion|view)\b", r"\bshould\b",
        r"\boverrated\b", r"\bunderrated\b", r"\bi'?m convinced\b", r"\bmatters?\b", r"\bis (?:the )?best\b",
        r"\bis (?:the )?worst\b", r"\bbetter than\b", r"\bworse than\b", r"\bought to\b", r"\bthe right way\b",
        r"\bis (?:a )?(?:waste|mistake)\b", r"\bi feel that\b", r"\bi doubt\b", r"\bessential\b",
    ),
    MemoryType.CONTEXT: (
        r"\bcurrently\b", r"\bright now\b", r"\bthese days\b", r"\bthis (?:week|month|quarter|sprint|year)\b",
        r"\bworking on\b", r"\bmy (?:current )?project\b", r"\bour (?:team|stack|codebase|project|company)\b",
        r"\bat work we\b", r"\bthe codebase\b", r"\bdeadline\b", r"\bat the moment\b", r"\bfor now\b",
        r"\bi'?m (?:building|migrating|preparing|planning|writing|learning)\b", r"\bwe use\b", r"\bteam uses\b",
    ),
    MemoryType.FACT: (
        r"\bmy name is\b", r"\bi live\b", r"\bi am allergic\b", r"\ballergic\b", r"\bi was born\b", r"\bbirthday\b",
        r"\bi have (?:a|an|two|three|\d+)\b", r"\bmy (?:wife|husband|partner|son|daughter|dog|cat|brother|sister)\b",
        r"\bi am \d+\b", r"\byears old\b", r"\bi work (?:as|at|for)\b", r"\bis called\b", r"\bspelled\b",
    ),
}

TRUTH_CUES: Mapping[TruthCategory, tuple[str, ...]] = {
    TruthCategory.INFERRED: (
        r"\bseems?\b", r"\bappears? to\b", r"\bprobably\b", r"\blikely\b", r"\btends? to\b", r"\bapparently\b",
        r"\bbased on\b", r"\bjudging (?:by|from)\b", r"\bmight be\b", r"\bmust be\b", r"\bsuggests?\b",
        r"^(?:the )?user\b", r"\binferred\b", r"\bpattern\b", r"\busually\b", r"\boften\b",
    ),
    TruthCategory.ABSOLUTE: (
        r"\b(?:19|20)\d\d\b", r"\b" + _MONTHS + r"\b", r"\b\d+(?:[.,]\d+)? ?(?:cm|kg|km|m|g|lbs?|ft|mm|ml|l|°c|%)\b",
        r"\bspelled\b", r"\bspelling\b", r"\bmy name is\b", r"\bborn\b", r"\bbirthday\b", r"\ballergic\b",
        r"\bblood type\b", r"\bcitizen\b", r"\bnationality\b", r"\bcapital of\b", r"\bphone number\b",
        r"\bmy (?:\w+ )?(?:name|surname)\b", r"\bdiagnosed\b", r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", r"\bis called\b",
        r"\b\d+ (?:years|children|kids|brothers|sisters)\b", r"\bmeters? tall\b", r"\bdegree in\b",
    ),
}
# fmt: on


_Cues = tuple[re.Pattern[str], list[re.Pattern[str]]]  # one pattern matching where any cue does, and each cue


def _cues(patterns: tuple[str, ...]) -> _Cues:
    return re.compile("|".join(f"(?:{p})" for p in patterns)), [re.compile(p) for p in patterns]


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[MemoryType, _Cues], dict[TruthCategory, _Cues]]:
    types = {k: _cues(cues) for k, cues in TYPE_CUES.items()}
    truths = {k: _cues(cues) for k, cues in TRUTH_CUES.items()}
    return types, truths


def _counts(lowered: str, cues: _Cues) -> int:
    """How many of the cues match; one search settles the common case of none (several times faster)."""
    gate, patterns = cues
    return sum(1 for p in patterns if p.search(lowered)) if gate.search(lowered) else 0


def type_cue_counts(text: str) -> dict[MemoryType, int]:
    """How many cues of each memory type match the text (all types present, zero when none)."""
    lowered = text.lower()
    return {kind: _counts(lowered, cues) for kind, cues in _compiled()[0].items()}


def truth_cue_counts(text: str) -> dict[TruthCategory, int]:
    """How many cues of the inferred and absolute categories match the text."""
    lowered = text.lower()
    return {kind: _counts(lowered, cues) for kind, cues in _compiled()[1].items()}
