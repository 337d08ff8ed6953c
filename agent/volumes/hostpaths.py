"""hostPath volumes: the node's own path, checked (and created) as its `type` asks.

The path is handed to the container as it is; nothing is copied or mounted on the host.
Types as in Kubernetes: "" (no check), DirectoryOrCreate (mkdir -p, mode 0755),
Directory, FileOrCreate (an empty file 0644, parents created), File, Socket,
CharDevice, BlockDevice.

Blocking file I/O: call from a worker thread.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from agent.volumes.errors import VolumeError

_KIND_CHECKS: dict[str, tuple[str, Callable[[int], bool]]] = {
    "Directory": ("a directory", stat.S_ISDIR),
    "DirectoryOrCreate": ("a directory", stat.S_ISDIR),
    "File": ("a file", stat.S_ISREG),
    "FileOrCreate": ("a file", stat.S_ISREG),
    "Socket": ("a socket", stat.S_ISSOCK),
    "CharDevice": ("a character device", stat.S_ISCHR),
    "BlockDevice": ("a block device", stat.S_ISBLK),
}


def check_host_path(path: Path, kind: str) -> None:
    """Make sure `path` is what `kind` promises, creating it for the *OrCreate types."""
    if not path.is_absolute():
        raise VolumeError(f"hostPath {str(path)!r} must be absolute")
    if not kind:
        return
    if kind not in _KIND_CHECKS:
        raise VolumeError(f"hostPath type {kind!r} is not supported")
    if kind == "DirectoryOrCreate" and not os.path.lexists(path):
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    elif kind == "FileOrCreate" and not os.path.lexists(path):
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        os.close(fd)
    what, test = _KIND_CHECKS[kind]
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise VolumeError(f"hostPath type check failed: {path} does not exist") from None
    if not test(mode):
        raise VolumeError(f"hostPath type check failed: {path} is not {what}")
