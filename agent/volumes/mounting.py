"""tmpfs mounts for memory-backed volumes (emptyDir `medium: Memory`, secrets, projected).

The agent runs as root in the host's mount namespace, so a tmpfs mounted on a pod's
volume directory is what Podman's recursive bind mount later hands to the container.
Mounting goes through libc directly: no `mount` process per volume, and the errno comes
back as an OSError. Which directories are mount points is read from
/proc/self/mountinfo, so a restarted agent still finds (and unmounts) what it mounted.

Blocking calls: run them in a worker thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MNT_DETACH = 0x2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def mount_tmpfs(target: Path, *, size_bytes: int | None = None, mode: int = 0o755) -> None:
    """Mount a fresh tmpfs on `target` (an existing directory)."""
    options = f"mode={mode:o}" + (f",size={size_bytes}" if size_bytes else "")
    result = _libc.mount(b"tmpfs", os.fsencode(target), b"tmpfs", _MS_NOSUID | _MS_NODEV, options.encode())
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount tmpfs on {target}: {os.strerror(errno)}")


def unmount(target: Path) -> None:
    """Detach the mount on `target`; it goes away once no container holds it any more."""
    if _libc.umount2(os.fsencode(target), _MNT_DETACH) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unmount {target}: {os.strerror(errno)}")


def mount_points(under: Path) -> list[Path]:
    """Mount points at or below `under`, deepest first (the order to unmount them in)."""
    prefix = os.path.realpath(under)
    found: list[Path] = []
    with open("/proc/self/mountinfo", "rb") as info:
        for line in info:
            point = _unescape(line.split(b" ")[4].decode(errors="surrogateescape"))
            if point == prefix or point.startswith(prefix + "/"):
                found.append(Path(point))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def is_mount_point(path: Path) -> bool:
    return Path(os.path.realpath(path)) in mount_points(path)


def filesystem_type(path: Path) -> str:
    """The type of the filesystem mounted exactly at `path` ('' when it is not a mount point)."""
    real = os.path.realpath(path)
    kind = ""
    with open("/proc/self/mountinfo", "rb") as info:
        for line in info:
            fields = line.decode(errors="surrogateescape").split(" ")
            if _unescape(fields[4]) == real:
                kind = fields[fields.index("-") + 1]  # the last mount on a point is the visible one
    return kind


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040)."""
    if "\\" not in field:
        return field
    out: list[str] = []
    i = 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)
