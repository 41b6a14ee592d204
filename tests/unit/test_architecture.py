"""Dependencies point inward: the memory system never imports the server, tools, resources or CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import personal_memory

PACKAGE = Path(personal_memory.__file__).parent
OUTER = ("personal_memory.server", "personal_memory.tools", "personal_memory.resources", "personal_memory.cli")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pms_and_plm_never_import_the_outer_layers() -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)} -> {name}"
        for inner in ("pms", "plm")
        for path in (PACKAGE / inner).rglob("*.py")
        for name in _imports(path)
        if name.startswith(OUTER)
    }
    assert not offenders


def test_public_api_is_pinned() -> None:
    assert personal_memory.__all__ == ["__version__"]
