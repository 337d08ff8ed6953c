"""Atomic replacement of a volume's file set, as the kubelet's AtomicWriter does it.

Layout of a volume directory (the container sees exactly this):

    ..2025_01_31_12_00_00.123456/   the current file set, written in full before use
    ..data -> ..2025_01_31_12_00_00.123456
    app.conf -> ..data/app.conf     one link per top-level name of the payload
    conf -> ..data/conf

An update writes a new timestamped directory, then renames a fresh `..data_tmp` link
over `..data` (rename(2) is atomic), then fixes the top-level links and removes the old
directory. A reader that opens `app.conf` gets the old or the new file, never a
half-written one; a reader that resolves `..data` once sees one consistent set.
Nothing is written when the payload equals what is there (SD cards wear out).

Blocking file I/O: call from a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from agent.volumes.payloads import Payload

DATA_LINK = "..data"
_TMP_LINK = "..data_tmp"
DIR_MODE = 0o755


def current_payload_dir(volume: Path) -> Path | None:
    """The timestamped directory `..data` points at, if any."""
    try:
        target = os.readlink(volume / DATA_LINK)
    except OSError:
        return None
    return volume / target


def matches(directory: Path, payload: Payload) -> bool:
    """Whether `directory` holds exactly `payload` (contents and modes)."""
    found: set[str] = set()
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            found.add(os.path.relpath(os.path.join(dirpath, name), directory))
    if found != set(payload):
        return False
    for rel, content in payload.items():
        path = directory / rel
        try:
            if path.stat().st_mode & 0o7777 != content.mode or path.read_bytes() != content.data:
                return False
        except OSError:
            return False
    return True


def write_atomically(volume: Path, payload: Payload) -> bool:
    """Make `volume` hold `payload`; True if anything was written."""
    volume.mkdir(parents=True, exist_ok=True)
    old = current_payload_dir(volume)
    if old is not None and old.is_dir() and matches(old, payload):
        _link_top_level(volume, payload)  # repairs links a crash between steps left missing
        return False
    new = Path(tempfile.mkdtemp(prefix=_timestamp() + ".", dir=volume))
    try:
        new.chmod(DIR_MODE)
        _write_files(new, payload)
        tmp_link = volume / _TMP_LINK
        with contextlib.suppress(FileNotFoundError):
            tmp_link.unlink()
        os.symlink(new.name, tmp_link)
        os.rename(tmp_link, volume / DATA_LINK)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    _link_top_level(volume, payload)
    _remove_stale(volume, payload, keep=new.name)
    return True


def _timestamp() -> str:
    now = time.time()
    return time.strftime("..%Y_%m_%d_%H_%M_%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"


def _write_files(directory: Path, payload: Payload) -> None:
    for rel, content in sorted(payload.items()):
        path = directory / rel
        for parent in reversed(path.relative_to(directory).parents[:-1]):
            sub = directory / parent
            if not sub.is_dir():
                sub.mkdir(mode=DIR_MODE)
                sub.chmod(DIR_MODE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, content.mode)
        try:
            _write_all(fd, content.data)
            os.fchmod(fd, content.mode)  # the umask narrowed what O_CREAT set
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _top_level(payload: Payload) -> set[str]:
    return {rel.split("/", 1)[0] for rel in payload}


def _link_top_level(volume: Path, payload: Payload) -> None:
    for name in _top_level(payload):
        link = volume / name
        target = f"{DATA_LINK}/{name}"
        try:
            if os.readlink(link) == target:
                continue
        except FileNotFoundError:
            pass
        except OSError:  # a file or directory where the link belongs: not ours to keep
            _remove(link)
        tmp = volume / f"..{name}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(target, tmp)
        os.rename(tmp, link)


def _remove_stale(volume: Path, payload: Payload, *, keep: str) -> None:
    """Drop top-level links of names the payload lost, and old timestamped directories."""
    wanted = _top_level(payload)
    for entry in os.scandir(volume):
        if entry.name in (DATA_LINK, keep):
            continue
        if entry.name.startswith(".."):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            continue
        if entry.name not in wanted and entry.is_symlink() and os.readlink(entry.path).startswith(DATA_LINK + "/"):
            os.unlink(entry.path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
