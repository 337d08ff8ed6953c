"""`VolumeManager`: a pod's volumes on this node, from `prepare` to `cleanup`.

Per pod, everything lives below `<root>/pods/<uid>/`:

    volumes/kubernetes.io~empty-dir/<name>/     a directory (tmpfs for medium: Memory)
    volumes/kubernetes.io~configmap/<name>/     ..data layout (see `writing`)
    volumes/kubernetes.io~secret/<name>/        ..data layout on a tmpfs
    volumes/kubernetes.io~downward-api/<name>/  ..data layout
    volumes/kubernetes.io~projected/<name>/     ..data layout on a tmpfs
    volumes.json                                what was prepared (see `records`)

hostPath volumes and claims are the node's own paths, handed through; claim data lives
in the storage directory (`<data-dir>/storage`) and outlives the pod.

The pod worker calls `prepare` before it creates containers (it is idempotent: call it
again after a restart or a failure), `mounts_for` per container, `refresh` now and then
while the pod runs (ConfigMap and Secret changes reach the files within a minute in
Kubernetes; every 30-60 s per pod keeps that promise), and `cleanup` once the pod's
containers are removed. `reconcile_volumes` runs the claims' reclaim policy; run it
every minute or so. Calls for one pod are serialised.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from agent.runtime.interface import Mount
from agent.volumes import mounting
from agent.volumes.errors import UnsupportedVolumeError, VolumeError
from agent.volumes.hostpaths import check_host_path
from agent.volumes.mounts import mounts_for
from agent.volumes.payloads import Payload
from agent.volumes.projecting import PROJECTED_KINDS, Projector
from agent.volumes.provisioning import LocalPathProvisioner
from agent.volumes.records import HostVolume, load_record, save_record
from agent.volumes.writing import DATA_LINK, write_atomically
from edgekube.client import ApiClient, ApiError, ServerUnreachable
from edgekube.resources.kinds.pod_quantities import parse_quantity

log = structlog.get_logger(__name__)

Obj = dict[str, Any]

PLUGIN_DIRS = {
    "emptyDir": "kubernetes.io~empty-dir",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}
"""Directory names per source, the kubelet's, so people who know its layout find their way."""
SUPPORTED = (*PLUGIN_DIRS, "hostPath", "persistentVolumeClaim")
IN_MEMORY = frozenset({"secret", "projected"})
"""Sources that hold secrets: on a tmpfs, so they never reach the SD card."""
EMPTY_DIR_MODE = 0o777
"""Any user in the pod may write an emptyDir, as in Kubernetes."""


@dataclass
class VolumeSettings:
    storage_dir: Path | None = None
    """Where local-path claims keep their data (None: `<root>/../storage`, i.e.
    `<data-dir>/storage` when root is `<data-dir>/agent`)."""
    object_cache_seconds: float = 5.0
    """How long `refresh` may reuse a ConfigMap or Secret fetched for another pod (one GET
    per object when the agent refreshes all its pods in a row)."""


def volume_kind(volume: Mapping[str, Any]) -> str:
    """The source a pod volume names (the first known one; validation allows only one)."""
    for key in SUPPORTED:
        if volume.get(key) is not None:
            return key
    named = sorted(k for k in volume if k != "name")
    raise UnsupportedVolumeError(f"volume {volume.get('name')!r}: source {named} is not supported by this agent")


class VolumeManager:
    def __init__(
        self, client: ApiClient, root: Path, node_name: str, *, settings: VolumeSettings | None = None
    ) -> None:
        self.settings = settings or VolumeSettings()
        self.root = root
        self.node_name = node_name
        self.storage_dir = self.settings.storage_dir or root.parent / "storage"
        self._projector = Projector(client, cache_seconds=self.settings.object_cache_seconds)
        self.provisioner = LocalPathProvisioner(client, node_name, self.storage_dir)
        self._locks: dict[str, asyncio.Lock] = {}
        self._log = log.bind(node=node_name)

    # --- paths ----------------------------------------------------------------------

    def pod_dir(self, pod_uid: str) -> Path:
        if not pod_uid or "/" in pod_uid or pod_uid.startswith("."):
            raise VolumeError(f"bad pod uid {pod_uid!r}")
        return self.root / "pods" / pod_uid

    def volume_dir(self, pod_uid: str, kind: str, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):  # the API allows DNS labels only
            raise VolumeError(f"bad volume name {name!r}")
        return self.pod_dir(pod_uid) / "volumes" / PLUGIN_DIRS[kind] / name

    def _lock(self, pod_uid: str) -> asyncio.Lock:
        return self._locks.setdefault(pod_uid, asyncio.Lock())

    # --- prepare ----------------------------------------------------------------------

    async def prepare(self, pod: Obj) -> dict[str, HostVolume]:
        """Set up every volume of `pod`; raises VolumeError naming the first that failed."""
        uid = _uid(pod)
        async with self._lock(uid):
            pod_dir = self.pod_dir(uid)
            before = await asyncio.to_thread(load_record, pod_dir)
            prepared: dict[str, HostVolume] = {}
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                name = str(volume.get("name", ""))
                try:
                    prepared[name] = await self._prepare_one(pod, uid, volume)
                except ServerUnreachable as err:
                    kept = before.get(name)
                    if kept is None or not await asyncio.to_thread(os.path.exists, kept.path):
                        raise VolumeError(f"volume {name!r}: the API server is unreachable: {err}") from err
                    self._log.warning("server unreachable; using the volume as last prepared", pod=uid, volume=name)
                    prepared[name] = kept
                except ApiError as err:
                    raise VolumeError(f"volume {name!r}: {err.message}") from err
                except VolumeError as err:
                    raise type(err)(f"volume {name!r}: {err}") from err
                except OSError as err:
                    raise VolumeError(f"volume {name!r}: {err}") from err
            await asyncio.to_thread(save_record, pod_dir, prepared)
            return prepared

    async def _prepare_one(self, pod: Obj, uid: str, volume: Obj) -> HostVolume:
        kind = volume_kind(volume)
        name = str(volume["name"])
        source: Obj = volume[kind] if isinstance(volume[kind], dict) else {}
        if kind == "hostPath":
            path = Path(str(source.get("path", "")))
            await asyncio.to_thread(check_host_path, path, str(source.get("type") or ""))
            return HostVolume(path, False, kind)
        if kind == "persistentVolumeClaim":
            namespace = str(pod["metadata"].get("namespace") or "default")
            claim = await self.provisioner.volume_for_claim(namespace, str(source.get("claimName", "")))
            return HostVolume(claim.path, bool(source.get("readOnly")), kind)
        directory = self.volume_dir(uid, kind, name)
        if kind == "emptyDir":
            await asyncio.to_thread(_prepare_empty_dir, directory, source)
            return HostVolume(directory, False, kind)
        payload = await self._projector.payload(pod, kind, source, fresh=True)
        await asyncio.to_thread(_write_volume, directory, payload, in_memory=kind in IN_MEMORY)
        return HostVolume(directory, True, kind)

    def mounts_for(
        self, container: Mapping[str, Any], prepared: Mapping[str, HostVolume], *, env: Mapping[str, str] | None = None
    ) -> list[Mount]:
        """The runtime mounts of `container` (see `agent.volumes.mounts`)."""
        return mounts_for(container, prepared, env=env)

    # --- refresh ----------------------------------------------------------------------

    async def refresh(self, pod: Obj) -> list[str]:
        """Re-project configMap, secret, downwardAPI and projected volumes; the names that changed.

        A source that cannot be read now (server unreachable, object deleted) keeps its
        files, as the kubelet does; the next refresh tries again.
        """
        uid = _uid(pod)
        changed: list[str] = []
        async with self._lock(uid):
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                kind = next((k for k in PROJECTED_KINDS if isinstance(volume.get(k), dict)), None)
                if kind is None:
                    continue
                name = str(volume.get("name", ""))
                directory = self.volume_dir(uid, kind, name)
                if not await asyncio.to_thread(os.path.lexists, directory / DATA_LINK):
                    continue  # never prepared: prepare's business
                try:
                    payload = await self._projector.payload(pod, kind, volume[kind], fresh=False)
                except (ServerUnreachable, ApiError, VolumeError) as err:
                    self._log.info("volume not refreshed; keeping its files", pod=uid, volume=name, error=str(err))
                    continue
                if await asyncio.to_thread(write_atomically, directory, payload):
                    self._log.info("volume updated", pod=uid, volume=name)
                    changed.append(name)
        return changed

    # --- cleanup ----------------------------------------------------------------------

    async def cleanup(self, pod_uid: str) -> None:
        """Unmount and remove the pod's volume directories; claim data and hostPaths stay.

        Call it once the pod's containers are gone (they hold the mounts).
        """
        async with self._lock(pod_uid):
            await asyncio.to_thread(_remove_pod_dir, self.pod_dir(pod_uid))
        self._locks.pop(pod_uid, None)

    async def pods_on_disk(self) -> set[str]:
        """Uids of pods with a directory here: the agent cleans up those it no longer runs."""
        pods = self.root / "pods"

        def scan() -> set[str]:
            try:
                return {entry.name for entry in os.scandir(pods) if entry.is_dir(follow_symlinks=False)}
            except FileNotFoundError:
                return set()

        return await asyncio.to_thread(scan)

    # --- claims -----------------------------------------------------------------------

    async def ensure_storage_class(self) -> None:
        """Create the `local-path` StorageClass if missing (prepare does it when a claim needs it)."""
        await self.provisioner.ensure_storage_class()

    async def reconcile_volumes(self) -> list[str]:
        """Delete (reclaim policy Delete) our volumes whose claim is gone; the PV names deleted."""
        in_use = await asyncio.to_thread(self._claim_paths_in_use)
        return await self.provisioner.reconcile(in_use)

    def _claim_paths_in_use(self) -> set[Path]:
        pods = self.root / "pods"
        used: set[Path] = set()
        if not pods.is_dir():
            return used
        for entry in os.scandir(pods):
            for volume in load_record(Path(entry.path)).values():
                if volume.kind == "persistentVolumeClaim":
                    used.add(Path(os.path.realpath(volume.path)))
        return used


def _uid(pod: Obj) -> str:
    uid = (pod.get("metadata") or {}).get("uid")
    if not uid:
        raise VolumeError("the pod has no metadata.uid")
    return str(uid)


def size_limit_bytes(source: Mapping[str, Any]) -> int | None:
    """An emptyDir's `sizeLimit` in bytes (rounded up), None when unset."""
    limit = source.get("sizeLimit")
    if limit is None:
        return None
    try:
        amount = parse_quantity(limit)
    except ValueError as err:
        raise VolumeError(f"sizeLimit {limit!r}: {err}") from err
    return max(1, int(-(-amount // 1)))


def _prepare_empty_dir(directory: Path, source: Mapping[str, Any]) -> None:
    medium = str(source.get("medium") or "")
    if medium not in ("", "Memory"):
        raise UnsupportedVolumeError(f"emptyDir medium {medium!r} is not supported")
    fresh = not directory.is_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if medium == "Memory" and not mounting.is_mount_point(directory):
        mounting.mount_tmpfs(directory, size_bytes=size_limit_bytes(source), mode=EMPTY_DIR_MODE)
        fresh = True
    if fresh:
        directory.chmod(EMPTY_DIR_MODE)


def _write_volume(directory: Path, payload: Payload, *, in_memory: bool) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if in_memory and not mounting.is_mount_point(directory):
        mounting.mount_tmpfs(directory, mode=0o755)
    write_atomically(directory, payload)


def _remove_pod_dir(pod_dir: Path) -> None:
    if not pod_dir.exists():
        return
    for point in mounting.mount_points(pod_dir):
        mounting.unmount(point)
    left = mounting.mount_points(pod_dir)
    if left:  # never let rmtree walk into a mount (it could be anyone's data)
        raise VolumeError(f"still mounted after unmounting: {[str(p) for p in left]}")
    shutil.rmtree(pod_dir)
