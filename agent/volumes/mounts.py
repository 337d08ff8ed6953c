"""A container's `volumeMounts` as runtime `Mount`s over the pod's prepared volumes.

- The whole volume: its directory (a configMap's `..data` layout included, so updates
  reach the container).
- `subPath` / `subPathExpr`: a path below the volume, resolved on the node now. A
  configMap key resolves to the file in the current timestamped directory, so, as in
  Kubernetes, such a mount does not see later updates. A missing subPath is created as
  a directory in writable volumes (emptyDir, hostPath, claims); the resolved path must
  stay inside the volume, even through symlinks.
- `readOnly` of the mount, or of the volume (configMap, secret, downwardAPI,
  projected, a read-only claim), makes the mount read-only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.runtime.interface import Mount
from agent.volumes.errors import VolumeError
from agent.volumes.records import HostVolume

WRITABLE_KINDS = frozenset({"emptyDir", "hostPath", "persistentVolumeClaim"})
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def container_env(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's literal `env` values (what subPathExpr may use without the pod)."""
    return {str(e["name"]): str(e["value"]) for e in container.get("env") or [] if "value" in e and "name" in e}


def expand(expr: str, env: Mapping[str, str]) -> str:
    """`$(VAR)` references replaced by their value; unknown ones are left as written, `$$` is `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, expr)


def mounts_for(
    container: Mapping[str, Any],
    prepared: Mapping[str, HostVolume],
    *,
    env: Mapping[str, str] | None = None,
) -> list[Mount]:
    """The runtime mounts for `container`; `env` (default: its literal env) expands subPathExpr."""
    values = container_env(container) if env is None else env
    mounts: list[Mount] = []
    for vm in container.get("volumeMounts") or []:
        name = str(vm.get("name", ""))
        volume = prepared.get(name)
        if volume is None:
            raise VolumeError(f"volumeMount {name!r} of container {container.get('name')!r} names no prepared volume")
        sub = str(vm.get("subPath") or "")
        if not sub and vm.get("subPathExpr"):
            sub = expand(str(vm["subPathExpr"]), values)
        source = resolve_sub_path(volume, sub) if sub else volume.path
        read_only = volume.read_only or bool(vm.get("readOnly"))
        mounts.append(Mount(source, str(vm.get("mountPath", "")), read_only))
    return mounts


def resolve_sub_path(volume: HostVolume, sub: str) -> Path:
    """The node path of `sub` inside `volume`, created if the volume is writable and it is missing."""
    if os.path.isabs(sub) or ".." in sub.split("/"):
        raise VolumeError(f"subPath {sub!r} must be a relative path without '..'")
    candidate = volume.path / sub
    if not os.path.lexists(candidate):
        if volume.kind not in WRITABLE_KINDS or volume.read_only:
            raise VolumeError(f"subPath {sub!r} does not exist in the {volume.kind} volume")
        candidate.mkdir(mode=volume.path.stat().st_mode & 0o7777, parents=True, exist_ok=True)
    root = os.path.realpath(volume.path)
    real = os.path.realpath(candidate)
    if real != root and not real.startswith(root + "/"):
        raise VolumeError(f"subPath {sub!r} resolves outside its volume")
    if not os.path.exists(real):
        raise VolumeError(f"subPath {sub!r} is a dangling link")
    return Path(real)
