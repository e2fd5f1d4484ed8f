"""Imports run one way, api → workflows → activities → db and domain: a module never imports
a layer above its own (README, Architecture)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each layer and the layers above it, which it must not import.
ABOVE = {
    "domain": {"db", "activities", "workflows", "api"},
    "db": {"activities", "workflows", "api"},
    "activities": {"workflows", "api"},
    "workflows": {"api"},
}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, lazily inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_no_layer_imports_one_above_it(layer: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & ABOVE[layer])
        for path in sorted((ROOT / layer).rglob("*.py"))
    }
    assert {module: names for module, names in wrong.items() if names} == {}
