"""Named entities (people, places, products, dates, quantities) found with patterns, offline.

Capitalised word runs are names unless they are a sentence-initial common word; dates, years and
quantities with units are kept verbatim. Good enough to link memories; the PLM can do better.
"""

from __future__ import annotations

import re

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}} (?:{_MONTHS})(?: \d{{4}})?|(?:{_MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
    rf"|(?:{_MONTHS}) \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})\b"
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_QUANTITY = re.compile(r"\b\d+(?:[.,]\d+)? ?(?:cm|kg|km|mm|ml|lbs?|ft|°C|%|years old)(?!\w)")
# A name: capitalised words (allowing inner capitals and digits, e.g. PostgreSQL, iPhone 15, Next.js).
_NAME = re.compile(
    r"\b(?:[A-Z][\w'’.-]*[\w]|[a-z]+[A-Z][\w]*)(?:\s+(?:of |de |van |von )?(?:[A-Z][\w'’.-]*[\w]|\d+\b))*"
)
_COMMON = frozenset(
    """i i'm i've i'd i'll my me we we're our us you your he she they it its the a an this that these those
    there here yesterday today tomorrow last next every on in at for and but or so if when while after before
    since during also then now currently usually sometimes always never not no yes monday tuesday wednesday
    thursday friday saturday sunday january february march april may june july august september october
    november december""".split()
)


def _strip_common(name: str) -> str:
    words = name.split()
    while words and words[0].lower() in _COMMON:
        words.pop(0)
    return " ".join(words).rstrip(".")


def extract_entities(text: str, limit: int = 12) -> list[str]:
    """Entities in order of appearance, without duplicates."""
    found: list[tuple[int, str]] = []
    taken: list[range] = []
    for pattern in (_DATE, _QUANTITY, _YEAR):
        for match in pattern.finditer(text):
            if not any(match.start() in span for span in taken):
                found.append((match.start(), match.group(0)))
                taken.append(range(match.start(), match.end()))
    for match in _NAME.finditer(text):
        if any(match.start() in span for span in taken):
            continue
        name = _strip_common(match.group(0))
        if name and not name.isdigit() and name.lower() not in _COMMON:
            found.append((match.start(), name))
    found.sort()
    return list(dict.fromkeys(value for _, value in found))[:limit]
