"""The PersistentVolume kind (v1): a piece of storage, provisioned or handed in by an admin.

A volume names exactly one source (hostPath, local, nfs, csi ...), which is fixed for
its life: pods may already have it mounted. It starts Pending; the binder moves it
through Available, Bound and Released through the status subresource.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import required_because
from edgekube.resources.kinds.common_fields import immutable_causes, mapping, same, text
from edgekube.resources.kinds.common_storage import (
    access_modes_short,
    class_name,
    phase_or_terminating,
    validate_access_modes,
    validate_class_name,
    validate_storage_size,
    validate_volume_mode,
)
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import (
    forbidden,
    immutable,
    invalid_value,
    required,
    unsupported_value,
)

KIND = Kind(
    group='',
    version='v1',
    kind='PersistentVolume',
    plural='persistentvolumes',
    singular='persistentvolume',
    namespaced=False,
    short_names=('pv',),
    categories=(),
    has_status=True,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Capacity", description="The size of the volume"),
    Column("Access Modes", description="How the volume can be mounted"),
    Column("Reclaim Policy", description="What happens to the volume when its claim is released"),
    Column("Status", description="The phase of the volume"),
    Column("Claim", description="The claim bound to the volume"),
    Column("StorageClass", description="StorageClass of the pv"),
    Column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
    Column("Reason", description="Why the volume is in its phase"),
    AGE_COLUMN,
    Column("VolumeMode", priority=1, description="Filesystem or Block"),
)

# Volume sources in the order Kubernetes checks them: with two, the later one is reported.
SOURCES = (
    "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "flocker", "nfs",
    "rbd", "quobyte", "cinder", "cephfs", "iscsi", "fc", "azureFile", "vsphereVolume",
    "photonPersistentDisk", "portworxVolume", "azureDisk", "scaleIO", "local", "storageos",
    "csi",
)
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
PHASES = ("Available", "Bound", "Failed", "Pending", "Released")
# Fields each source needs to be usable at all.
_SOURCE_REQUIRED = {
    "hostPath": ("path",),
    "local": ("path",),
    "nfs": ("server", "path"),
    "csi": ("driver", "volumeHandle"),
}


@dataclass
class PersistentVolumeStrategy(Strategy):
    """PersistentVolumes: a size, access modes, one fixed source, Retain by default."""

    columns: tuple[Column, ...] = COLUMNS

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"phase": "Pending"}

    def default(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            if not spec.get("persistentVolumeReclaimPolicy"):
                spec["persistentVolumeReclaimPolicy"] = "Retain"
            if spec.get("volumeMode") is None:
                spec["volumeMode"] = "Filesystem"

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [*causes, required("spec")]
        causes += validate_access_modes(spec.get("accessModes"), "spec.accessModes")
        causes += _validate_capacity(spec.get("capacity"))
        causes += validate_class_name(spec.get("storageClassName"), "spec.storageClassName")
        causes += validate_volume_mode(spec.get("volumeMode"), "spec.volumeMode")
        policy = spec.get("persistentVolumeReclaimPolicy")
        if policy and policy not in RECLAIM_POLICIES:
            causes.append(unsupported_value(
                "spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES
            ))
        return causes + _validate_source(spec)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        new_spec, old_spec = mapping(new.get("spec")), mapping(old.get("spec"))
        if any(not same(new_spec.get(s), old_spec.get(s)) for s in SOURCES):
            detail = "spec.persistentvolumesource is immutable after creation"
            causes.append(forbidden("spec.persistentvolumesource", detail))
        causes += immutable_causes(new, old, [("spec", "volumeMode")])
        # Node affinity may be added to an old volume, but not changed once there.
        if old_spec.get("nodeAffinity") and not same(
            new_spec.get("nodeAffinity"), old_spec.get("nodeAffinity")
        ):
            causes.append(immutable("spec.nodeAffinity"))
        return causes

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_status_update(new, old)
        phase = get_path(new, "status", "phase")
        if phase and phase not in PHASES:
            causes.append(unsupported_value("status.phase", phase, PHASES))
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        spec = mapping(obj.get("spec"))
        claim = mapping(spec.get("claimRef"))
        claim_cell = f"{text(claim.get('namespace'))}/{text(claim.get('name'))}" if claim else ""
        return [
            get_path(obj, "metadata", "name"),
            text(mapping(spec.get("capacity")).get("storage")),
            access_modes_short(spec.get("accessModes")),
            text(spec.get("persistentVolumeReclaimPolicy")),
            phase_or_terminating(obj),
            claim_cell,
            class_name(obj),
            text(spec.get("volumeAttributesClassName")) or "<unset>",
            text(get_path(obj, "status", "reason")),
            age(obj, now),
            text(spec.get("volumeMode")) or "<unset>",
        ]

    def field_values(self, obj: Obj) -> dict[str, str]:
        # Kubernetes serves the bare `name` as well, for old clients.
        return {**super().field_values(obj), "name": text(get_path(obj, "metadata", "name"))}


def _validate_capacity(capacity: Any) -> list[Cause]:
    """`capacity` holds `storage` and nothing else."""
    values = mapping(capacity)
    if not values:
        return [required("spec.capacity")]
    causes: list[Cause] = []
    if "storage" not in values or len(values) > 1:
        causes.append(unsupported_value("spec.capacity", values, ("storage",)))
    if "storage" in values:
        causes += validate_storage_size(values["storage"], "spec.capacity[storage]")
    return causes


def _validate_source(spec: dict[str, Any]) -> list[Cause]:
    present = [s for s in SOURCES if spec.get(s) is not None]
    if not present:
        return [required_because("spec", "must specify a volume type")]
    extra = "may not specify more than 1 volume type"
    causes = [forbidden(f"spec.{s}", extra) for s in present[1:]]
    source = present[0]
    fields = mapping(spec.get(source))
    for key in _SOURCE_REQUIRED.get(source, ()):
        if not fields.get(key):
            causes.append(required(f"spec.{source}.{key}"))
    path = text(fields.get("path"))
    if source == "nfs" and path and not path.startswith("/"):
        causes.append(invalid_value("spec.nfs.path", path, "must be an absolute path"))
    if source == "local" and not spec.get("nodeAffinity"):
        # A local disk is on one node only; the scheduler must know which.
        causes.append(required_because("spec.nodeAffinity", "Local volume requires node affinity"))
    return causes


STRATEGY = PersistentVolumeStrategy(KIND, tracks_generation=False)
