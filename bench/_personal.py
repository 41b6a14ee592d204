"""A seeded generator of realistic personal memories (every type, many domains), and their cached embeddings.

Memory ``i`` depends only on the seed and ``i``, so the 1k set is the start of the 10k set, and so on:
embeddings are cached per chunk of ``CHUNK`` memories under ``bench/.cache/`` and shared by every size.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
CHUNK = 10_000

PEOPLE = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca", "Mara",
          "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe"]
RELATIONS = ["sister", "brother", "mother", "father", "partner", "best friend", "manager", "colleague", "neighbour",
             "cousin", "son", "daughter", "dentist", "landlord", "coach"]
CITIES = ["Lyon", "Oslo", "Kyoto", "Lima", "Perth", "Quito", "Riga", "Turin", "Porto", "Austin", "Leeds", "Hanoi",
          "Krakow", "Dakar", "Bergen", "Cork", "Seville", "Tallinn", "Nairobi", "Montreal"]
FOODS = ["ramen", "paella", "dumplings", "tacos", "green curry", "pho", "falafel", "risotto", "sourdough", "kimchi",
         "lentil soup", "sushi", "shakshuka", "pierogi", "banh mi"]
HOBBIES = ["hiking", "bouldering", "chess", "sailing", "pottery", "road cycling", "birdwatching", "baking bread",
           "trail running", "woodworking", "playing the cello", "gardening", "film photography", "swimming"]
TOOLS = ["Python", "Rust", "Go", "TypeScript", "PostgreSQL", "Kubernetes", "Terraform", "React", "Django", "Neovim",
         "VS Code", "Docker", "Kafka", "Redis", "Elixir"]
PROJECTS = ["the billing migration", "the mobile app redesign", "the data warehouse", "the onboarding flow",
            "the search service", "the quarterly report", "the API gateway", "the hiring pipeline"]
HEALTH = ["a sore knee", "hay fever", "a shellfish allergy", "lower back pain", "a vitamin D deficiency",
          "migraines", "a lactose intolerance", "high blood pressure"]
BOOKS = ["Dune", "Middlemarch", "The Left Hand of Darkness", "Thinking, Fast and Slow", "Piranesi", "Beloved",
         "The Pragmatic Programmer", "Station Eleven", "Sapiens", "Educated"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MOMENTS = ["over breakfast", "on the train", "during lunch", "after a long day", "while cooking", "on a walk",
           "before bed", "in a voice note"]

# (memory type, template). Slots: p person, r relation, h hobby, t tool, j project, x health, b book, m month,
# f food. Derived from those (so one person lives in one city and a rent never changes, as in a real life):
# c city, n number, y year, k price, f2 second food, t2 second tool.
TEMPLATES: list[tuple[str, str]] = [
    ("fact", "My {r} {p} lives in {c} and works near the station."),
    ("fact", "My {r} {p} has {x} and avoids {f}."),
    ("fact", "I have {x}, diagnosed in {m} {y}."),
    ("fact", "Our flat costs {k} euros a month, heating included."),
    ("fact", "{p} is my {r}; we met through {h}."),
    ("preference", "I order {f} rather than {f2} whenever we eat out with {p}."),
    ("preference", "I like to spend Sunday mornings {h} with {p}."),
    ("preference", "For side projects I reach for {t} before {t2}."),
    ("preference", "I can't stand meetings before nine; {p} knows to book me later."),
    ("preference", "One of the best books I read was {b}."),
    ("skill", "I have been {h} for {n} years and teach it to beginners."),
    ("skill", "I am comfortable with {t} and have used it in production for {n} years."),
    ("skill", "I speak basic Portuguese and I am learning Japanese with {p}."),
    ("belief", "I think {t} is overrated for small teams like ours on {j}."),
    ("belief", "I believe {h} is the best way to clear my head after work."),
    ("belief", "Every engineer should read {b}, in my opinion."),
    ("event", "In {m} I ran a half marathon in {c} with {p}."),
    ("event", "In {m} {y} we shipped {j} after {n} weeks of work."),
    ("event", "Last {m} I visited {p} in {c} and we ate {f} every night."),
    ("event", "I saw the doctor in {m} about {x}."),
    ("context", "This week I am working on {j} using {t} with {p}."),
    ("context", "I am planning a trip to {c} in {m} with my {r}."),
    ("context", "Right now I am reading {b} and {h} on weekends."),
    ("context", "My current goal at work is to finish {j} before {m}."),
]


def _derived(options: list[str], *key: str) -> str:
    digest = hashlib.blake2b("|".join(key).encode(), digest_size=4).digest()
    return options[int.from_bytes(digest, "little") % len(options)]


def memory(seed: int, index: int) -> tuple[str, str]:
    """Memory ``index`` of the stream ``seed``: (memory type, text)."""
    rng = random.Random(f"{seed}:{index}")
    kind, template = rng.choice(TEMPLATES)
    p, r, t, f = rng.choice(PEOPLE), rng.choice(RELATIONS), rng.choice(TOOLS), rng.choice(FOODS)
    h, x, j = rng.choice(HOBBIES), rng.choice(HEALTH), rng.choice(PROJECTS)
    fill = {
        "p": p, "r": r, "h": h, "t": t, "j": j, "x": x, "b": rng.choice(BOOKS), "m": rng.choice(MONTHS), "f": f,
        "c": _derived(CITIES, p), "n": _derived([str(n) for n in range(2, 20)], h + t + j),
        "y": _derived([str(y) for y in range(2008, 2026)], x + j), "k": _derived(["850", "1200", "1450"], str(seed)),
        "f2": _derived([o for o in FOODS if o != f], f, p), "t2": _derived([o for o in TOOLS if o != t], t),
    }
    text = template.format(**fill)
    if index >= 1000:  # beyond the first thousand, where and when it was said keeps every memory distinct
        moment, day, hobby = rng.choice(MOMENTS), rng.choice(WEEKDAYS), rng.choice(HOBBIES)
        text = f"{text} Mentioned {moment} on a {day}, talking about {hobby} with {rng.choice(PEOPLE)} and " \
               f"{rng.choice(PEOPLE)}."
    return kind, text


def memories(seed: int, count: int, start: int = 0) -> list[str]:
    return [memory(seed, i)[1] for i in range(start, start + count)]


def queries(seed: int, count: int) -> list[str]:
    """Questions an assistant would ask the memory, from the same vocabulary (a different stream)."""
    rng = random.Random(f"queries:{seed}")
    forms = [
        "Where does my {r} live?", "What food do I like?", "What did I do in {c}?", "Which tools do I know well?",
        "What am I working on with {p}?", "Any health issues I mentioned, like {x}?", "What are my hobbies?",
        "When did I visit {p}?", "What do I think about {t}?", "What book am I reading?",
        "What happened in {m} {y}?", "Plans for a trip to {c}?",
    ]
    out: list[str] = []
    for _ in range(count):
        fill = {"r": rng.choice(RELATIONS), "c": rng.choice(CITIES), "p": rng.choice(PEOPLE),
                "x": rng.choice(HEALTH), "t": rng.choice(TOOLS), "m": rng.choice(MONTHS), "y": rng.randint(2010, 2026)}
        out.append(rng.choice(forms).format(**fill))
    return out


def embeddings(seed: int, count: int, identity: str, embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Embeddings of the first ``count`` memories, computed once per chunk and cached under ``bench/.cache``."""
    tag = hashlib.sha256(f"{identity}:{seed}".encode()).hexdigest()[:10]
    parts: list[np.ndarray] = []
    for start in range(0, count, CHUNK):
        path = CACHE / f"vectors-{tag}-{start // CHUNK:04d}.npy"
        size = min(CHUNK, count - start)
        if path.exists():
            cached = np.load(path)
            if len(cached) >= size:
                parts.append(cached[:size])
                continue
        vectors = embed(memories(seed, size, start)).astype(np.float32)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        parts.append(vectors)
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
