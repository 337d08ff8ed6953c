"""volumeMounts -> runtime Mounts, hostPath types, emptyDir sizes: real files, no server."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.interface import Mount
from agent.volumes.errors import UnsupportedVolumeError, VolumeError
from agent.volumes.hostpaths import check_host_path
from agent.volumes.managing import size_limit_bytes, volume_kind
from agent.volumes.mounts import expand, mounts_for
from agent.volumes.payloads import FileContent
from agent.volumes.records import HostVolume, load_record, save_record
from agent.volumes.writing import write_atomically


@pytest.fixture
def prepared(tmp_path: Path) -> dict[str, HostVolume]:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    config = tmp_path / "config"
    write_atomically(config, {"app.conf": FileContent(b"x=1"), "nested/b": FileContent(b"b")})
    return {
        "cache": HostVolume(cache, False, "emptyDir"),
        "config": HostVolume(config, True, "configMap"),
        "data": HostVolume(tmp_path / "claim", True, "persistentVolumeClaim"),
    }


def container(*mounts: dict[str, Any], env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"name": "app", "volumeMounts": list(mounts), "env": env or []}


def test_whole_volumes(prepared: dict[str, HostVolume]) -> None:
    """A mount without subPath is the volume's directory; configMaps are always read-only."""
    got = mounts_for(
        container({"name": "cache", "mountPath": "/cache"}, {"name": "config", "mountPath": "/etc/app"}), prepared
    )
    assert got == [Mount(prepared["cache"].path, "/cache", False), Mount(prepared["config"].path, "/etc/app", True)]


def test_read_only_mount(prepared: dict[str, HostVolume]) -> None:
    """readOnly on the mount makes a writable volume read-only."""
    [mount] = mounts_for(container({"name": "cache", "mountPath": "/c", "readOnly": True}), prepared)
    assert mount.read_only


def test_configmap_key_subpath_resolves_to_the_current_file(prepared: dict[str, HostVolume]) -> None:
    """A configMap key as subPath is the file inside the timestamped directory (no updates, as in Kubernetes)."""
    [mount] = mounts_for(container({"name": "config", "mountPath": "/app.conf", "subPath": "app.conf"}), prepared)
    assert mount.host_path.read_text() == "x=1"
    assert mount.host_path.parent.name.startswith("..")
    assert mount.read_only


def test_missing_subpath_is_created_in_writable_volumes(prepared: dict[str, HostVolume]) -> None:
    """emptyDir subPaths are created as directories with the volume's mode."""
    [mount] = mounts_for(container({"name": "cache", "mountPath": "/x", "subPath": "a/b"}), prepared)
    assert mount.host_path == prepared["cache"].path / "a" / "b"
    assert mount.host_path.is_dir()


def test_missing_subpath_in_configmap_fails(prepared: dict[str, HostVolume]) -> None:
    """A configMap is never written to: a missing subPath is an error."""
    with pytest.raises(VolumeError, match="does not exist"):
        mounts_for(container({"name": "config", "mountPath": "/x", "subPath": "nope"}), prepared)


@pytest.mark.parametrize("sub", ["../outside", "/abs", "a/../../b"])
def test_subpath_must_stay_relative(prepared: dict[str, HostVolume], sub: str) -> None:
    """subPaths with '..' or absolute are refused."""
    with pytest.raises(VolumeError):
        mounts_for(container({"name": "cache", "mountPath": "/x", "subPath": sub}), prepared)


def test_subpath_symlink_escape_is_refused(prepared: dict[str, HostVolume], tmp_path: Path) -> None:
    """A symlink inside the volume pointing out of it cannot be used as a subPath."""
    os.symlink(tmp_path, prepared["cache"].path / "escape")
    with pytest.raises(VolumeError, match="outside"):
        mounts_for(container({"name": "cache", "mountPath": "/x", "subPath": "escape"}), prepared)


def test_subpath_expr(prepared: dict[str, HostVolume]) -> None:
    """subPathExpr expands $(VAR) from the container's env (or the env given)."""
    c = container(
        {"name": "cache", "mountPath": "/x", "subPathExpr": "logs/$(POD)"}, env=[{"name": "POD", "value": "p1"}]
    )
    [mount] = mounts_for(c, prepared)
    assert mount.host_path == prepared["cache"].path / "logs" / "p1"
    [mount] = mounts_for(c, prepared, env={"POD": "p2"})
    assert mount.host_path.name == "p2"


def test_expand() -> None:
    """Unknown references stay as written and $$ escapes a dollar."""
    assert expand("$(A)-$(B)-$$(A)", {"A": "1"}) == "1-$(B)-$(A)"


def test_unknown_volume_fails(prepared: dict[str, HostVolume]) -> None:
    """A mount naming no prepared volume fails with a clear message."""
    with pytest.raises(VolumeError, match="'ghost'"):
        mounts_for(container({"name": "ghost", "mountPath": "/g"}), prepared)


# --- hostPath ------------------------------------------------------------------------------


def test_host_path_or_create(tmp_path: Path) -> None:
    """DirectoryOrCreate and FileOrCreate create what is missing (parents too)."""
    check_host_path(tmp_path / "d" / "e", "DirectoryOrCreate")
    assert (tmp_path / "d" / "e").is_dir()
    check_host_path(tmp_path / "f" / "g.txt", "FileOrCreate")
    assert (tmp_path / "f" / "g.txt").is_file()
    assert (tmp_path / "f" / "g.txt").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("make", "kind", "ok"),
    [
        ("dir", "Directory", True),
        ("file", "Directory", False),
        ("file", "File", True),
        ("dir", "File", False),
        ("none", "Directory", False),
        ("none", "File", False),
        ("none", "", True),
        ("socket", "Socket", True),
        ("file", "Socket", False),
        ("file", "CharDevice", False),
    ],
)
def test_host_path_type_checks(tmp_path: Path, make: str, kind: str, ok: bool) -> None:
    """Existing-path types check what is there and never create anything."""
    path = tmp_path / "p"
    sock = None
    if make == "dir":
        path.mkdir()
    elif make == "file":
        path.write_text("")
    elif make == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    try:
        if ok:
            check_host_path(path, kind)
        else:
            with pytest.raises(VolumeError, match="hostPath type check failed"):
                check_host_path(path, kind)
    finally:
        if sock is not None:
            sock.close()
    if make == "none":
        assert not path.exists()


def test_host_path_must_be_absolute() -> None:
    """A relative hostPath is refused."""
    with pytest.raises(VolumeError):
        check_host_path(Path("relative"), "")


# --- small helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "expected"), [(None, None), ("64Mi", 64 << 20), ("1.5k", 1500), ("1m", 1)])
def test_size_limit(limit: str | None, expected: int | None) -> None:
    """emptyDir sizeLimit in bytes, rounded up."""
    assert size_limit_bytes({"sizeLimit": limit} if limit else {}) == expected


def test_volume_kind() -> None:
    """The source is found by key; an unsupported one fails clearly."""
    assert volume_kind({"name": "a", "configMap": {"name": "x"}}) == "configMap"
    with pytest.raises(UnsupportedVolumeError, match="nfs"):
        volume_kind({"name": "a", "nfs": {"server": "s", "path": "/"}})


def test_record_round_trip(tmp_path: Path) -> None:
    """What prepare returned is read back after a restart."""
    volumes = {"a": HostVolume(tmp_path / "a", True, "configMap")}
    save_record(tmp_path, volumes)
    assert load_record(tmp_path) == volumes
    assert load_record(tmp_path / "missing") == {}
