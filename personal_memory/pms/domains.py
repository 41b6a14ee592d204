"""Knowledge domains: a small lexicon that names the domains a text touches, offline and in microseconds.

Used to label memories on remember/ingest and to detect a query's domains for context injection.
Each domain lists cue words (matched on word boundaries, lower case; a trailing ``*`` matches a prefix).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

DOMAIN_CUES: Mapping[str, tuple[str, ...]] = {
    "python": ("python", "pip", "pypi", "django", "flask", "fastapi", "pandas", "numpy", "pytest", "pydantic", "venv"),
    "javascript": ("javascript", "typescript", "node", "nodejs", "npm", "deno", "js", "ts", "vite", "webpack"),
    "react": ("react", "jsx", "next.js", "nextjs", "redux", "hooks"),
    "drupal": ("drupal", "drush", "twig"),
    "php": ("php", "composer", "laravel", "symfony", "wordpress"),
    "rust": ("rust", "cargo", "rustc", "crate*"),
    "go": ("golang", "goroutine*"),
    "java": ("java", "jvm", "maven", "gradle", "kotlin", "spring"),
    "devops": ("docker", "kubernetes", "k8s", "terraform", "ansible", "ci", "deploy*", "aws", "gcp", "azure", "linux"),
    "databases": ("sql", "postgres*", "mysql", "sqlite", "database*", "redis", "mongodb", "query", "index*"),
    "machine learning": ("machine learning", "ml", "llm*", "model*", "neural", "pytorch", "torch", "training", "ai"),
    "programming": ("code", "coding", "programming", "software", "developer", "git", "github", "refactor*", "tabs",
                    "spaces", "indentation", "editor", "vim", "emacs", "vscode", "ide", "api", "bug*", "debug*"),
    "architecture": ("architecture", "design pattern*", "microservice*", "composition", "inheritance",
                     "dependency injection", "module*"),
    "security": ("security", "secure", "vulnerabilit*", "encryption", "password*", "auth*", "owasp"),
    "government": ("government", "public sector", "ministry", "agency", "civic", "municipal*", "council"),
    "work": ("work", "job", "career", "office", "colleague*", "manager", "boss", "meeting*", "employer", "company",
             "promotion", "salary", "team"),
    "family": ("family", "daughter", "son", "kid*", "child*", "wife", "husband", "partner", "mother", "mom", "mum",
               "father", "dad", "sister", "brother", "parent*", "grandma", "grandpa", "baby"),
    "health": ("health", "allerg*", "doctor", "medic*", "diet", "sleep*", "exercise", "gym", "injur*", "disease",
               "pain", "vegetarian", "vegan", "therapy", "weight"),
    "fitness": ("run", "running", "marathon", "cycling", "bike", "swim*", "yoga", "workout*", "hiking", "hike*",
                "climbing", "gym"),
    "food": ("food", "cook*", "recipe*", "eat*", "restaurant*", "coffee", "tea", "dinner", "lunch", "breakfast",
             "bake*", "baking", "cuisine", "dish*", "wine", "beer", "pizza", "spicy"),
    "travel": ("travel*", "trip*", "flight*", "vacation*", "holiday*", "visit*", "abroad", "hotel*", "passport",
               "airport"),
    "home": ("live in", "lives in", "moved to", "apartment", "house", "home", "neighbo*", "rent", "city"),
    "finance": ("money", "budget*", "bank*", "invest*", "stock*", "saving*", "tax*", "mortgage", "loan", "crypto*"),
    "music": ("music", "song*", "band*", "guitar", "piano", "concert*", "album*", "sing*", "jazz", "spotify"),
    "reading": ("book*", "novel*", "read", "reading", "author*", "library", "poetry", "kindle"),
    "movies": ("movie*", "film*", "cinema", "series", "netflix", "tv show*", "documentar*"),
    "sports": ("football", "soccer", "basketball", "tennis", "baseball", "hockey", "sport*", "match", "team"),
    "pets": ("pet", "pets", "dog*", "cat", "cats", "puppy", "kitten", "vet"),
    "education": ("school", "university", "college", "degree", "study", "studied", "course*", "class", "teacher",
                  "student*", "phd", "exam*"),
    "art": ("art", "paint*", "draw*", "sketch*", "museum*", "photograph*", "camera"),
    "language": ("french", "spanish", "german", "english", "italian", "japanese", "chinese", "language*",
                 "speak*", "fluent"),
}


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    compiled: dict[str, re.Pattern[str]] = {}
    for domain, cues in DOMAIN_CUES.items():
        parts = [re.escape(c[:-1]) + r"\w*" if c.endswith("*") else re.escape(c) for c in cues]
        compiled[domain] = re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)
    return compiled


def domain_scores(text: str) -> dict[str, int]:
    """How many cue words of each domain the text contains (domains with none are left out)."""
    scores: dict[str, int] = {}
    for domain, pattern in _patterns().items():
        hits = len(pattern.findall(text))
        if hits:
            scores[domain] = hits
    return scores


def detect_domains(text: str, limit: int = 3) -> list[str]:
    """The text's domains, strongest first, at most ``limit``."""
    scores = domain_scores(text)
    return [d for d, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
