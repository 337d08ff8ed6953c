"""`python -m agent --cleanup` in a bare namespace: exactly our links, routes, tables and state go."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

NS = f"pnc{os.getpid() % 100000}"


def ip(*args: str) -> str:
    return subprocess.run(["ip", "-n", NS, *args], check=True, capture_output=True, text=True).stdout


def in_ns(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", NS, *argv], capture_output=True, text=True, timeout=60)


@pytest.fixture
def namespace() -> Iterator[str]:
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        ip("link", "set", "lo", "up")
        ip("link", "add", "sink0", "type", "bridge")
        ip("addr", "add", "192.0.2.1/24", "dev", "sink0")
        ip("link", "set", "sink0", "up")
        ip("route", "add", "default", "dev", "sink0")
        yield NS
    finally:
        subprocess.run(["ip", "netns", "delete", NS], check=False)


def test_cleanup_removes_only_ours(namespace: str, tmp_path: Path) -> None:
    """Routes with proto 101 (any table), ek0, ekv*, edgekube* tables and the state dir go; the rest stays."""
    ip("route", "add", "10.42.5.0/24", "via", "192.0.2.7", "proto", "101")
    ip("route", "add", "10.42.6.0/24", "via", "192.0.2.8", "proto", "101", "table", "100")
    ip("route", "add", "10.42.7.0/24", "via", "192.0.2.9")
    ip("link", "add", "ek0", "type", "bridge")
    ip("link", "add", "ekv12345678", "type", "veth", "peer", "name", "other0")
    for table in ("edgekube", "edgekube_hostports", "someone_else"):
        assert in_ns("nft", "add", "table", "ip", table).returncode == 0
    state = tmp_path / "agent" / "network"
    state.mkdir(parents=True)
    (state / "addresses.json").write_text("{}")

    done = in_ns(sys.executable, "-m", "agent", "--cleanup", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for line in ("route 10.42.5.0/24", "route 10.42.6.0/24", "link ek0", "link ekv12345678", "nft table ip edgekube"):
        assert line in done.stdout, done.stdout

    routes = ip("route", "show", "table", "all")
    assert "proto 101" not in routes and "10.42.7.0/24" in routes
    links = ip("-br", "link")
    assert "ek0" not in links and "ekv" not in links and "sink0" in links
    tables = in_ns("nft", "list", "tables").stdout
    assert "edgekube" not in tables and "someone_else" in tables
    assert not state.exists()

    again = in_ns(sys.executable, "-m", "agent", "--cleanup", "--data-dir", str(tmp_path))
    assert again.returncode == 0 and again.stdout.strip() == "nothing to remove"
