"""Code: the commits the user authored in a local git repository, read with ``git log`` (git 2.x).

The user is the repository's ``user.email`` (``git config user.email``, local or global); other authors'
commits are skipped, as are merges. Each commit becomes a DataPoint whose text is the message and whose
statements say what the commit shows about the user: the languages of the touched files (skills), the
month they worked on the repository (an event), tools and habits (preferences). Streaming: ``git log``
output is parsed commit by commit as the subprocess writes it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path, PurePosixPath

from personal_memory.ingest.datapoint import DataPoint, Statement
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.registry import Ingester
from personal_memory.pms.schema import MemoryType, TruthCategory

LANGUAGES = {
    ".py": "Python",
    ".pyi": "Python",
    ".ipynb": "Python",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".rs": "Rust",
    ".go": "Go",
    ".java": "Java",
    ".kt": "Kotlin",
    ".rb": "Ruby",
    ".php": "PHP",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".hpp": "C++",
    ".cs": "C#",
    ".swift": "Swift",
    ".scala": "Scala",
    ".sh": "shell",
    ".bash": "shell",
    ".sql": "SQL",
    ".html": "HTML",
    ".css": "CSS",
    ".scss": "CSS",
    ".lua": "Lua",
    ".r": "R",
    ".jl": "Julia",
    ".hs": "Haskell",
    ".ex": "Elixir",
    ".exs": "Elixir",
    ".erl": "Erlang",
    ".dart": "Dart",
    ".vue": "Vue",
    ".svelte": "Svelte",
    ".tf": "Terraform",
    ".zig": "Zig",
    ".ml": "OCaml",
    ".clj": "Clojure",
}
TOOLS = {
    "Dockerfile": "Docker",
    "docker-compose.yml": "Docker Compose",
    "compose.yaml": "Docker Compose",
    ".gitlab-ci.yml": "GitLab CI",
    "Makefile": "Make",
    "Justfile": "just",
    ".pre-commit-config.yaml": "pre-commit",
}
_CONVENTIONAL = re.compile(r"^(feat|fix|chore|docs|refactor|test|perf|build|ci|style)(\([^)]*\))?!?: ")
_RECORD, _FIELD = "\x1e", "\x1f"
_FORMAT = f"--format={_RECORD}%H{_FIELD}%an{_FIELD}%ae{_FIELD}%aI{_FIELD}%B{_FIELD}"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BadInputError(repo, "git is not installed, so the repository cannot be read") from exc


def _user_email(repo: Path) -> str:
    if _git(repo, "rev-parse", "--git-dir").returncode != 0:
        raise BadInputError(repo, "is not a git repository")
    email = _git(repo, "config", "user.email").stdout.strip()
    if not email:
        raise BadInputError(repo, "has no user.email; run `git config user.email YOU@EXAMPLE.COM` to say who you are")
    return email.lower()


def statements(repo_name: str, when: datetime, message: str, touched: list[str]) -> list[Statement]:
    """What one commit says about its author."""
    found = [
        Statement(
            text=f"I worked on the {repo_name} repository in {when:%B %Y}.",
            memory_type=MemoryType.EVENT,
            truth_category=TruthCategory.ABSOLUTE,
        )
    ]
    paths = [PurePosixPath(p) for p in touched]
    languages = sorted({LANGUAGES[p.suffix.lower()] for p in paths if p.suffix.lower() in LANGUAGES})
    tools = sorted(
        {TOOLS[p.name] for p in paths if p.name in TOOLS}
        | {"GitHub Actions" for p in paths if p.parts[:2] == (".github", "workflows")}
    )
    found += [
        Statement(text=f"I write {lang} code.", memory_type=MemoryType.SKILL, truth_category=TruthCategory.INFERRED)
        for lang in languages
    ]
    found += [
        Statement(
            text=f"I use {tool} in my projects.", memory_type=MemoryType.SKILL, truth_category=TruthCategory.INFERRED
        )
        for tool in tools
    ]
    if _CONVENTIONAL.match(message):
        found.append(
            Statement(
                text="I write commit messages in the Conventional Commits style.",
                memory_type=MemoryType.PREFERENCE,
                truth_category=TruthCategory.INFERRED,
            )
        )
    if any(p.name.startswith("test_") or "tests" in p.parts or p.stem.endswith((".test", ".spec")) for p in paths):
        found.append(
            Statement(
                text="I write automated tests for my code.",
                memory_type=MemoryType.PREFERENCE,
                truth_category=TruthCategory.INFERRED,
            )
        )
    return found


def _records(repo: Path) -> Iterator[str]:
    """The raw text of each commit record, as ``git log`` streams it."""
    process = subprocess.Popen(
        ["git", "-C", str(repo), "log", "--no-merges", "--name-only", _FORMAT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    assert process.stdout is not None and process.stderr is not None  # both are pipes
    try:
        record: list[str] = []
        for line in process.stdout:
            if line.startswith(_RECORD) and record:
                yield "".join(record)
                record = []
            record.append(line)
        if record:
            yield "".join(record)
        error = process.stderr.read()
        if process.wait() != 0 and "does not have any commits" not in error:
            raise BadInputError(repo, f"git log failed: {error.strip()}")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()


def read(repo: Path) -> Iterator[DataPoint]:
    email = _user_email(repo)
    name = Path(_git(repo, "rev-parse", "--show-toplevel").stdout.strip() or repo).name
    for record in _records(repo):
        sha, author, author_email, date, message, names = record.lstrip(_RECORD).split(_FIELD, 5)
        if author_email.lower() != email:
            continue
        when = datetime.fromisoformat(date)
        touched = [line for line in names.splitlines() if line.strip()]
        yield DataPoint(
            source_kind="git",
            reference=f"git:{name}@{sha}",
            author=f"{author} <{author_email}>",
            timestamp=when,
            text=message.strip(),
            statements=statements(name, when, message.strip(), touched),
            metadata={"repository": name, "commit": sha, "files": touched[:200]},
        )


def files(path: Path) -> Iterator[Path]:
    yield path


INGESTER = Ingester("git", "A local git repository: your commits -> skills, events, habits", files, read)
iter_datapoints = INGESTER.iter_datapoints
