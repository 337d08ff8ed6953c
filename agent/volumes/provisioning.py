"""The built-in `local-path` provisioner: a directory on this node per PersistentVolumeClaim.

When a pod on this node uses a claim that is not bound yet and whose class is
`local-path` (named, or the default class when the claim names none), the agent makes
`<storage>/pvc-<claim uid>_<namespace>_<claim>` and a PersistentVolume `pvc-<claim uid>`
for it: a hostPath source with that path, node affinity to this node, the claim's
requested size and access modes, a `claimRef` to the claim. Then it binds the claim
(`spec.volumeName`, status Bound) and marks the volume Bound. This is what
WaitForFirstConsumer means: the volume is made where the first pod runs.

Every step is idempotent, so a crash or a lost answer in the middle is finished by the
next attempt: the PV name is fixed by the claim's uid, an existing PV is reused, the
statuses are written only when they are not Bound yet.

`reconcile()` runs the reclaim policy: a volume of ours whose claim is gone (deleted,
or replaced by a new claim of the same name) is deleted with its directory under
policy Delete, or marked Released under Retain. The directory of a volume still used
by a pod on this node is never removed. Data lives outside the pods' directories, so
a pod's deletion never touches it.
"""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from agent.volumes.errors import UnsupportedVolumeError, VolumeError
from agent.volumes.hostpaths import check_host_path
from edgekube.client import (
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    AlreadyExists,
    ApiClient,
    ApiError,
    Conflict,
    NotFound,
    Resource,
    ServerUnreachable,
)

log = structlog.get_logger(__name__)

Obj = dict[str, Any]

STORAGE_CLASSES = Resource("storage.k8s.io", "v1", "storageclasses", False, "StorageClass")
LOCAL_PATH_CLASS = "local-path"
PROVISIONER = "edgekube.io/local-path"
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
PROVISIONED_NODE = "edgekube.io/provisioned-node"
"""Which node's disk holds a volume of ours (reconcile looks only at its own)."""
SELECTED_NODE = "volume.kubernetes.io/selected-node"
HOSTNAME_LABEL = "kubernetes.io/hostname"
DATA_DIR_MODE = 0o777
"""Pods that run as any user can write their volume, as with k3s's local-path-provisioner."""
_BIND_ATTEMPTS = 5


@dataclass(frozen=True)
class ClaimVolume:
    """Where a bound claim's data is on this node."""

    volume_name: str
    path: Path
    ours: bool
    """Provisioned by this provisioner (as opposed to a PV an admin made)."""


def storage_class_body() -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": LOCAL_PATH_CLASS, "annotations": {DEFAULT_CLASS_ANNOTATIONS[0]: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


def is_default_class(storage_class: Obj) -> bool:
    annotations = (storage_class.get("metadata") or {}).get("annotations") or {}
    return any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def volume_path(volume: Obj) -> Path:
    """The node path behind a PersistentVolume with a hostPath or local source."""
    spec = volume.get("spec") or {}
    for source in ("hostPath", "local"):
        if isinstance(spec.get(source), dict) and spec[source].get("path"):
            return Path(str(spec[source]["path"]))
    name = (volume.get("metadata") or {}).get("name", "")
    other = ("capacity", "claimRef", "nodeAffinity")
    kinds = sorted(k for k, v in spec.items() if isinstance(v, dict) and k not in other)
    raise UnsupportedVolumeError(f"persistentvolume {name!r} has a source this agent cannot mount: {kinds}")


def volume_nodes(volume: Obj) -> set[str] | None:
    """The host names a PV's node affinity allows, or None when it does not restrict them."""
    affinity = (volume.get("spec") or {}).get("nodeAffinity") or {}
    terms = (affinity.get("required") or {}).get("nodeSelectorTerms") or []
    names: set[str] = set()
    for term in terms:
        for expression in term.get("matchExpressions") or []:
            if expression.get("key") == HOSTNAME_LABEL and expression.get("operator") == "In":
                names.update(str(v) for v in expression.get("values") or [])
    return names or None


class LocalPathProvisioner:
    def __init__(self, client: ApiClient, node_name: str, storage_dir: Path) -> None:
        self._client = client
        self.node_name = node_name
        self.storage_dir = storage_dir
        self._locks: dict[str, asyncio.Lock] = {}
        self._log = log.bind(node=node_name)

    # --- the storage class -----------------------------------------------------------

    async def ensure_storage_class(self) -> Obj:
        """The `local-path` StorageClass, created (as the default class) if missing."""
        try:
            return await self._client.get(STORAGE_CLASSES, LOCAL_PATH_CLASS)
        except NotFound:
            pass
        try:
            created = await self._client.create(STORAGE_CLASSES, storage_class_body())
            self._log.info("created the local-path storage class")
            return created
        except AlreadyExists:
            return await self._client.get(STORAGE_CLASSES, LOCAL_PATH_CLASS)

    async def _class_of(self, claim: Obj) -> str:
        """The class a claim asks for; a claim naming none gets the default class."""
        beta = ((claim.get("metadata") or {}).get("annotations") or {}).get(BETA_CLASS_ANNOTATION)
        if beta is not None:
            return str(beta)
        named = (claim.get("spec") or {}).get("storageClassName")
        if named is not None:
            return str(named)
        classes = (await self._client.list_all(STORAGE_CLASSES)).items
        defaults = [c for c in classes if is_default_class(c)]
        if not defaults:
            ours = await self.ensure_storage_class()
            return LOCAL_PATH_CLASS if is_default_class(ours) else ""
        names = {str(c["metadata"]["name"]) for c in defaults}
        return LOCAL_PATH_CLASS if LOCAL_PATH_CLASS in names else sorted(names)[0]

    # --- binding ---------------------------------------------------------------------

    async def volume_for_claim(self, namespace: str, claim_name: str) -> ClaimVolume:
        """The data directory of claim `namespace/claim_name` on this node, provisioned and bound if needed."""
        claim = await self._claim(namespace, claim_name)
        uid = str(claim["metadata"]["uid"])
        async with self._locks.setdefault(uid, asyncio.Lock()):
            claim = await self._claim(namespace, claim_name)  # another pod may have bound it meanwhile
            volume_name = (claim.get("spec") or {}).get("volumeName")
            if volume_name:
                volume = await self._bound_volume(claim, str(volume_name))
            else:
                volume = await self._provision(claim)
                claim = await self._bind_claim(claim, volume)
            await self._mark_bound(claim, volume)
            return await self._usable(volume)

    async def _claim(self, namespace: str, name: str) -> Obj:
        try:
            claim = await self._client.get(PERSISTENT_VOLUME_CLAIMS, name, namespace)
        except NotFound:
            raise VolumeError(f'persistentvolumeclaim "{name}" not found') from None
        if (claim.get("metadata") or {}).get("deletionTimestamp"):
            raise VolumeError(f'persistentvolumeclaim "{name}" is being deleted')
        return claim

    async def _bound_volume(self, claim: Obj, volume_name: str) -> Obj:
        try:
            volume = await self._client.get(PERSISTENT_VOLUMES, volume_name)
        except NotFound:
            raise VolumeError(f"persistentvolume {volume_name!r} of claim {_key(claim)} not found") from None
        ref_uid = ((volume.get("spec") or {}).get("claimRef") or {}).get("uid")
        if ref_uid and ref_uid != claim["metadata"]["uid"]:
            raise VolumeError(f"persistentvolume {volume_name!r} is bound to another claim than {_key(claim)}")
        return volume

    async def _provision(self, claim: Obj) -> Obj:
        wanted = await self._class_of(claim)
        if wanted != LOCAL_PATH_CLASS:
            detail = f"storage class {wanted!r} is not provisioned by this agent" if wanted else "it names no class"
            raise VolumeError(f"persistentvolumeclaim {_key(claim)} is not bound and {detail}")
        storage_class = await self.ensure_storage_class()
        meta, spec = claim["metadata"], claim.get("spec") or {}
        path = self.storage_dir / f"pvc-{meta['uid']}_{meta['namespace']}_{meta['name']}"
        await asyncio.to_thread(_make_data_dir, path)
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if size is None:
            raise VolumeError(f"persistentvolumeclaim {_key(claim)} requests no storage size")
        body = self._volume_body(claim, path, size, str(storage_class.get("reclaimPolicy") or "Delete"))
        try:
            volume = await self._client.create(PERSISTENT_VOLUMES, body)
            self._log.info("provisioned a volume", volume=body["metadata"]["name"], claim=_key(claim), path=str(path))
        except AlreadyExists:
            volume = await self._bound_volume(claim, body["metadata"]["name"])
        return volume

    def _volume_body(self, claim: Obj, path: Path, size: Any, reclaim_policy: str) -> Obj:
        meta, spec = claim["metadata"], claim.get("spec") or {}
        on_this_node = {"key": HOSTNAME_LABEL, "operator": "In", "values": [self.node_name]}
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": f"pvc-{meta['uid']}",
                "annotations": {PROVISIONED_BY: PROVISIONER, PROVISIONED_NODE: self.node_name},
            },
            "spec": {
                "capacity": {"storage": size},
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "persistentVolumeReclaimPolicy": reclaim_policy,
                "storageClassName": LOCAL_PATH_CLASS,
                "volumeMode": "Filesystem",
                "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [on_this_node]}]}},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": meta["namespace"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }

    async def _bind_claim(self, claim: Obj, volume: Obj) -> Obj:
        """Point the claim at the volume (an update with the claim's revision; retried on Conflict)."""
        volume_name = volume["metadata"]["name"]
        for _ in range(_BIND_ATTEMPTS):
            body = copy.deepcopy(claim)
            spec = body.setdefault("spec", {})
            if spec.get("volumeName") == volume_name:
                return body
            if spec.get("volumeName"):
                raise VolumeError(f"persistentvolumeclaim {_key(claim)} was bound to {spec['volumeName']!r} meanwhile")
            spec["volumeName"] = volume_name
            if spec.get("storageClassName") is None:
                spec["storageClassName"] = LOCAL_PATH_CLASS  # what the default-class admission would have set
            annotations = body["metadata"].setdefault("annotations", {})
            annotations.update(
                {
                    "pv.kubernetes.io/bind-completed": "yes",
                    "pv.kubernetes.io/bound-by-controller": "yes",
                    "volume.kubernetes.io/storage-provisioner": PROVISIONER,
                    SELECTED_NODE: self.node_name,
                }
            )
            try:
                return await self._client.update(PERSISTENT_VOLUME_CLAIMS, body)
            except Conflict:
                fresh = await self._claim(claim["metadata"]["namespace"], claim["metadata"]["name"])
                if fresh["metadata"]["uid"] != claim["metadata"]["uid"]:
                    raise VolumeError(f"persistentvolumeclaim {_key(claim)} was replaced meanwhile") from None
                claim = fresh
        raise VolumeError(f"persistentvolumeclaim {_key(claim)}: binding kept conflicting; will retry")

    async def _mark_bound(self, claim: Obj, volume: Obj) -> None:
        spec = volume.get("spec") or {}
        if (claim.get("status") or {}).get("phase") != "Bound":
            status = {"phase": "Bound", "accessModes": spec.get("accessModes") or [], "capacity": spec.get("capacity")}
            meta = claim["metadata"]
            await self._client.patch_status(
                PERSISTENT_VOLUME_CLAIMS, meta["name"], {"status": status}, meta["namespace"]
            )
        if (volume.get("status") or {}).get("phase") != "Bound":
            bound = {"status": {"phase": "Bound"}}
            await self._client.patch_status(PERSISTENT_VOLUMES, volume["metadata"]["name"], bound)

    async def _usable(self, volume: Obj) -> ClaimVolume:
        """The volume's path, once it is known to be on this node and present."""
        name = str(volume["metadata"]["name"])
        nodes = volume_nodes(volume)
        if nodes is not None and self.node_name not in nodes:
            raise VolumeError(f"volume node affinity conflict: {name} is on {sorted(nodes)}, not {self.node_name}")
        path = volume_path(volume)
        ours = self._is_ours(volume)
        spec = volume.get("spec") or {}
        if ours:
            await asyncio.to_thread(_make_data_dir, path)
        elif isinstance(spec.get("hostPath"), dict):
            await asyncio.to_thread(check_host_path, path, str(spec["hostPath"].get("type") or ""))
        elif not await asyncio.to_thread(path.is_dir):
            raise VolumeError(f"local volume {name}: {path} does not exist")
        return ClaimVolume(name, path, ours)

    def _is_ours(self, volume: Obj) -> bool:
        annotations = (volume.get("metadata") or {}).get("annotations") or {}
        return annotations.get(PROVISIONED_BY) == PROVISIONER and annotations.get(PROVISIONED_NODE) == self.node_name

    # --- reclaiming --------------------------------------------------------------------

    async def reconcile(self, in_use: Collection[Path]) -> list[str]:
        """Apply the reclaim policy to our volumes whose claim is gone; the names deleted.

        `in_use`: data paths (resolved, as by os.path.realpath) that pods on this node still
        have; those are left for later.
        """
        try:
            volumes = (await self._client.list_all(PERSISTENT_VOLUMES)).items
        except ServerUnreachable as err:
            self._log.debug("reclaim skipped: server unreachable", error=str(err))
            return []
        busy = {str(p) for p in in_use}
        deleted: list[str] = []
        for volume in volumes:
            if not self._is_ours(volume):
                continue
            try:
                if await self._reclaim(volume, busy):
                    deleted.append(str(volume["metadata"]["name"]))
            except (ApiError, ServerUnreachable, OSError, VolumeError) as err:
                self._log.warning("reclaim failed", volume=volume["metadata"]["name"], error=str(err))
        return deleted

    async def _claim_is_gone(self, volume: Obj) -> bool:
        ref = (volume.get("spec") or {}).get("claimRef") or {}
        if not ref.get("name"):
            return False
        try:
            claim = await self._client.get(PERSISTENT_VOLUME_CLAIMS, str(ref["name"]), str(ref.get("namespace", "")))
        except NotFound:
            return True
        return bool(ref.get("uid")) and claim["metadata"].get("uid") != ref.get("uid")

    async def _reclaim(self, volume: Obj, busy: set[str]) -> bool:
        if not await self._claim_is_gone(volume):
            return False
        name = str(volume["metadata"]["name"])
        spec = volume.get("spec") or {}
        if spec.get("persistentVolumeReclaimPolicy") != "Delete":
            if (volume.get("status") or {}).get("phase") != "Released":
                await self._client.patch_status(PERSISTENT_VOLUMES, name, {"status": {"phase": "Released"}})
            return False
        path = volume_path(volume)
        if await asyncio.to_thread(os.path.realpath, path) in busy:
            self._log.info("claim deleted but a pod still uses the volume; deleting later", volume=name)
            return False
        await asyncio.to_thread(self._remove_data, path)
        try:
            await self._client.delete(PERSISTENT_VOLUMES, name, uid=str(volume["metadata"]["uid"]))
        except NotFound:
            pass
        self._log.info("deleted a released volume and its data", volume=name, path=str(path))
        return True

    def _remove_data(self, path: Path) -> None:
        """Remove a data directory, but only one this provisioner made under its storage dir."""
        real = Path(os.path.realpath(path))
        root = Path(os.path.realpath(self.storage_dir))
        if real.parent != root or not real.name.startswith("pvc-"):
            raise VolumeError(f"refusing to remove {path}: not a local-path directory under {self.storage_dir}")
        if real.exists():
            shutil.rmtree(real)


def _make_data_dir(path: Path) -> None:
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(DATA_DIR_MODE)


def _key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
