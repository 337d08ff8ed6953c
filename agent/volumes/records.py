"""`HostVolume` (a prepared volume: where it is on the node) and the per-pod record of them.

The record, `<root>/pods/<uid>/volumes.json`, is written after each successful
`prepare`. It lets an agent that restarts while the server is unreachable keep using
the volumes it prepared before (ARCHITECTURE principle 5), and it tells the reclaimer
which claim data pods on this node still use. It is rewritten only when it changes.

Blocking file I/O: call from a worker thread.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RECORD_FILE = "volumes.json"


@dataclass(frozen=True)
class HostVolume:
    """One prepared volume of a pod."""

    path: Path
    """The node path that containers mount (or a subPath below)."""
    read_only: bool
    """Containers get it read-only whatever their volumeMount says (configMap, secret, ...)."""
    kind: str
    """The volume source: emptyDir, hostPath, configMap, secret, downwardAPI, projected,
    persistentVolumeClaim."""


def load_record(pod_dir: Path) -> dict[str, HostVolume]:
    try:
        raw = json.loads((pod_dir / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return {}
    out: dict[str, HostVolume] = {}
    for name, entry in (raw if isinstance(raw, dict) else {}).items():
        try:
            out[name] = HostVolume(Path(entry["path"]), bool(entry["read_only"]), str(entry["kind"]))
        except (KeyError, TypeError):
            continue
    return out


def save_record(pod_dir: Path, volumes: Mapping[str, HostVolume]) -> None:
    """Write the record (atomically: a new file renamed over the old) unless it is unchanged."""
    if load_record(pod_dir) == dict(volumes):
        return
    pod_dir.mkdir(parents=True, exist_ok=True)
    body = {n: {"path": str(v.path), "read_only": v.read_only, "kind": v.kind} for n, v in volumes.items()}
    tmp = pod_dir / (RECORD_FILE + ".tmp")
    tmp.write_text(json.dumps(body, indent=1, sort_keys=True))
    os.replace(tmp, pod_dir / RECORD_FILE)
