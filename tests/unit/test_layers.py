"""The layers import only downwards (STYLE: resources -> store -> service/api -> cli)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> packages it must never import
FORBIDDEN = {
    "edgekube.resources": ("edgekube.store", "edgekube.service", "edgekube.api", "edgekube.server", "agent"),
    "edgekube.store": ("edgekube.resources", "edgekube.service", "edgekube.api", "edgekube.server", "agent"),
    "edgekube.service": ("edgekube.api", "edgekube.server", "agent"),
    "edgekube.api": ("edgekube.store", "edgekube.server", "agent"),
    "edgekube.security": ("edgekube.store", "edgekube.service", "edgekube.api", "agent"),
    # The client and the simulator talk HTTP to a server; they never reach into one.
    "edgekube.client": (
        "edgekube.store",
        "edgekube.service",
        "edgekube.api",
        "edgekube.server",
        "edgekube.controllers",
        "edgekube.scheduler",
        "agent",
    ),
    "edgekube.simulating": (
        "edgekube.store",
        "edgekube.service",
        "edgekube.api",
        "edgekube.server",
        "edgekube.controllers",
        "edgekube.scheduler",
        "agent",
    ),
    "edgekube.scheduler": ("edgekube.api", "edgekube.server", "agent"),
    "edgekube.controllers": ("edgekube.api", "edgekube.server", "agent"),
    "edgekube": ("agent",),
    # The agent talks to the server over HTTP only (edgekube.client).
    "agent": (
        "edgekube.store",
        "edgekube.service",
        "edgekube.api",
        "edgekube.server",
        "edgekube.controllers",
        "edgekube.scheduler",
        "edgekube.simulating",
    ),
}
# The command line is the top layer: it may start the agent (edgekube agent, the embedded agent).
TOP = ("edgekube.cli",)
SQL_MODULES = ("sqlalchemy", "sqlite3", "alembic")
CONTAINER_MODULES = ("podman",)
NETLINK_MODULES = ("pyroute2",)


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


SOURCES = sorted((ROOT / "edgekube").rglob("*.py")) + sorted((ROOT / "agent").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_layers(path: Path) -> None:
    """No module imports a layer above its own."""
    mod = module_name(path)
    found = imports(path)
    if mod in TOP:
        return
    for package, banned in FORBIDDEN.items():
        if mod == package or mod.startswith(package + "."):
            bad = sorted(n for n in found if any(n == b or n.startswith(b + ".") for b in banned))
            assert not bad, f"{mod} imports {bad}"


def foreign_imports(path: Path, owner: str, modules: tuple[str, ...]) -> list[str]:
    """What `path` imports of `modules` although it lies outside the `owner` package."""
    if module_name(path).startswith(owner):
        return []
    return sorted(n for n in imports(path) if n.split(".")[0] in modules)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_store_speaks_sql(path: Path) -> None:
    """SQLAlchemy, sqlite3 and alembic appear only below edgekube/store."""
    assert not foreign_imports(path, "edgekube.store", SQL_MODULES)


def test_server_never_imports_the_kubernetes_client() -> None:
    """The kubernetes client is read only by the schema-building child process."""
    for path in SOURCES:
        mod = module_name(path)
        if mod == "edgekube.resources.openapi.building":
            continue
        assert not any(n.split(".")[0] == "kubernetes" for n in imports(path)), mod


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_runtime_speaks_to_podman(path: Path) -> None:
    """podman-py appears only below agent/runtime."""
    assert not foreign_imports(path, "agent.runtime", CONTAINER_MODULES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_network_package_speaks_netlink_and_nft(path: Path) -> None:
    """pyroute2 and the nft command appear only below agent/network."""
    assert not foreign_imports(path, "agent.network", NETLINK_MODULES)
    if not module_name(path).startswith("agent.network"):
        assert '"nft"' not in path.read_text(), f"{module_name(path)} runs nft"
