"""The client ships to devices alone: it imports no server internals, and the simulator only the client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# package -> the edgekube modules it may import (besides itself)
ALLOWED = {
    "client": ("edgekube.errors", "edgekube.resources"),
    "simulating": ("edgekube.errors", "edgekube.resources", "edgekube.client", "edgekube.logging", "edgekube.nodeinfo"),
    "nodeinfo": ("edgekube.errors", "edgekube.resources", "edgekube.client"),
}
FILES = [(pkg, p) for pkg in ALLOWED for p in sorted((ROOT / "edgekube" / pkg).rglob("*.py"))]


def edgekube_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from edgekube import errors` imports edgekube.errors, not all of edgekube.
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n == "edgekube" or n.startswith("edgekube.")}


@pytest.mark.parametrize(("package", "path"), FILES, ids=lambda v: v if isinstance(v, str) else v.name)
def test_imports_stay_inside_the_allowed_layers(package: str, path: Path) -> None:
    """Only edgekube.errors, edgekube.resources (and, for the simulator, the client) are imported."""
    own = f"edgekube.{package}"
    allowed = (own, *ALLOWED[package])
    bad = sorted(n for n in edgekube_imports(path) if not any(n == a or n.startswith(a + ".") for a in allowed))
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
