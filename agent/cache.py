"""The agent's local copy on disk: the pods bound to this node, and statuses not yet sent.

    <data-dir>/agent/pods/<uid>.json     the pod as last seen (spec, metadata, phase)
    <data-dir>/agent/status/<uid>.json   {"namespace", "name", "uid", "status"} unsent

Written atomically (a temporary file, fsync, rename), so a power cut leaves the old or
the new file, never half of one. Pods are rewritten only when their spec, metadata or
phase changes, not on every status write of our own (SD cards wear out); statuses only
while the server cannot take them. All file access runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import orjson
import structlog

log = structlog.get_logger(__name__)
Obj = dict[str, Any]

_VOLATILE_META = ("resourceVersion", "managedFields", "generation")


def fingerprint(pod: Obj) -> str:
    """What decides whether the stored copy is stale: metadata (minus revision fields), spec, phase."""
    meta = {k: v for k, v in (pod.get("metadata") or {}).items() if k not in _VOLATILE_META}
    phase = (pod.get("status") or {}).get("phase")
    data = orjson.dumps({"m": meta, "s": pod.get("spec"), "p": phase}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _read_all(directory: Path) -> dict[str, Obj]:
    out: dict[str, Obj] = {}
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.json")):
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as err:
            log.warning("unreadable file in the local copy; ignoring it", path=str(path), error=str(err))
            continue
        if isinstance(data, dict):
            out[path.stem] = data
    return out


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _safe(uid: str) -> str:
    if not uid or "/" in uid or uid.startswith("."):
        raise ValueError(f"not a pod uid: {uid!r}")
    return uid


class LocalCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pods_dir = root / "pods"
        self.status_dir = root / "status"
        self._stored: dict[str, str] = {}  # uid -> fingerprint of the stored pod

    async def open(self) -> None:
        def make() -> None:
            for directory in (self.pods_dir, self.status_dir):
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)

        await asyncio.to_thread(make)

    @property
    def existed(self) -> bool:
        """Whether an agent kept a local copy here before (its pods dir exists)."""
        return self.pods_dir.is_dir()

    async def load_pods(self) -> dict[str, Obj]:
        """The stored pods by uid."""
        pods = await asyncio.to_thread(_read_all, self.pods_dir)
        self._stored = {uid: fingerprint(pod) for uid, pod in pods.items()}
        return pods

    async def store_pod(self, pod: Obj) -> bool:
        """Store the pod if it differs from the stored copy; whether it wrote."""
        uid = _safe(str((pod.get("metadata") or {}).get("uid", "")))
        mark = fingerprint(pod)
        if self._stored.get(uid) == mark:
            return False
        data = orjson.dumps(pod)
        await asyncio.to_thread(write_atomic, self.pods_dir / f"{uid}.json", data)
        self._stored[uid] = mark
        return True

    async def forget_pod(self, uid: str) -> None:
        self._stored.pop(uid, None)
        await asyncio.to_thread(_remove, self.pods_dir / f"{_safe(uid)}.json")
        await asyncio.to_thread(_remove, self.status_dir / f"{_safe(uid)}.json")

    async def load_statuses(self) -> dict[str, Obj]:
        return await asyncio.to_thread(_read_all, self.status_dir)

    async def store_status(self, uid: str, record: Obj) -> None:
        await asyncio.to_thread(write_atomic, self.status_dir / f"{_safe(uid)}.json", orjson.dumps(record))

    async def forget_status(self, uid: str) -> None:
        await asyncio.to_thread(_remove, self.status_dir / f"{_safe(uid)}.json")
