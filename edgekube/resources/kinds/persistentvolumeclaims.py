"""The PersistentVolumeClaim kind (v1): a pod's request for storage of a size and mode.

A claim is fixed once made, so that quota and placement decisions about it hold. Three
changes are allowed: the binder fills in `volumeName` once; a claim made before any
class existed may get a class once; and a bound claim may ask for more storage (never
less). Status (phase, capacity) belongs to the binder.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import mapping, same, text
from edgekube.resources.kinds.common_storage import (
    BETA_CLASS_ANNOTATION,
    access_modes_short,
    class_name,
    phase_or_terminating,
    storage_size,
    validate_access_modes,
    validate_class_name,
    validate_storage_size,
    validate_volume_mode,
)
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import forbidden, immutable, required

KIND = Kind(
    group='',
    version='v1',
    kind='PersistentVolumeClaim',
    plural='persistentvolumeclaims',
    singular='persistentvolumeclaim',
    namespaced=True,
    short_names=('pvc',),
    categories=(),
    has_status=True,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Status", description="The phase of the claim"),
    Column("Volume", description="The volume bound to the claim"),
    Column("Capacity", description="The size of the bound volume"),
    Column("Access Modes", description="How the bound volume can be mounted"),
    Column("StorageClass", description="StorageClass of the pvc"),
    Column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
    AGE_COLUMN,
    Column("VolumeMode", priority=1, description="Filesystem or Block"),
)

_SPEC_FIXED = (
    "spec is immutable after creation except resources.requests and "
    "volumeAttributesClassName for bound claims"
)


@dataclass
class PersistentVolumeClaimStrategy(Strategy):
    """PVCs: access modes and a storage request, Filesystem by default, a fixed spec."""

    columns: tuple[Column, ...] = COLUMNS

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"phase": "Pending"}

    def default(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict) and spec.get("volumeMode") is None:
            spec["volumeMode"] = "Filesystem"

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [*causes, required("spec")]
        missing = "at least 1 access mode is required"
        causes += validate_access_modes(spec.get("accessModes"), "spec.accessModes", missing=missing)
        storage = get_path(spec, "resources", "requests", "storage")
        causes += validate_storage_size(storage, "spec.resources[storage]")
        causes += validate_class_name(spec.get("storageClassName"), "spec.storageClassName")
        causes += validate_volume_mode(spec.get("volumeMode"), "spec.volumeMode")
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        if not same(_comparable_spec(new, old), _comparable_spec(old, old)):
            causes.append(forbidden("spec", _SPEC_FIXED))
        new_size = storage_size(get_path(new, "spec", "resources", "requests", "storage"))
        old_size = storage_size(get_path(old, "spec", "resources", "requests", "storage"))
        if new_size is not None and old_size is not None and new_size < old_size:
            causes.append(forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            ))
        old_class = _annotations(old).get(BETA_CLASS_ANNOTATION)
        if old_class is not None and _annotations(new).get(BETA_CLASS_ANNOTATION) != old_class:
            causes.append(immutable(f"metadata.annotations[{BETA_CLASS_ANNOTATION}]"))
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        spec = mapping(obj.get("spec"))
        volume = text(spec.get("volumeName"))
        capacity = modes = ""
        if volume:
            # What the claim got, not what it asked for; "0" until the binder reports it.
            capacity = text(get_path(obj, "status", "capacity", "storage")) or "0"
            modes = access_modes_short(get_path(obj, "status", "accessModes"))
        return [
            get_path(obj, "metadata", "name"),
            phase_or_terminating(obj),
            volume,
            capacity,
            modes,
            class_name(obj),
            text(spec.get("volumeAttributesClassName")) or "<unset>",
            age(obj, now),
            text(spec.get("volumeMode")) or "<unset>",
        ]

    def field_values(self, obj: Obj) -> dict[str, str]:
        # Kubernetes serves the bare `name` as well, for old clients.
        return {**super().field_values(obj), "name": text(get_path(obj, "metadata", "name"))}


def _comparable_spec(claim: Obj, old: Obj) -> dict[str, Any]:
    """`claim`'s spec without the parts an update of `old` may change."""
    spec = copy.deepcopy(mapping(claim.get("spec")))
    old_spec = mapping(old.get("spec"))
    if not old_spec.get("volumeName"):
        spec.pop("volumeName", None)
    if old_spec.get("storageClassName") is None and BETA_CLASS_ANNOTATION not in _annotations(old):
        # A claim from before default classes existed may be given one, once.
        spec.pop("storageClassName", None)
    if get_path(old, "status", "phase") == "Bound":
        requests = get_path(spec, "resources", "requests")
        if isinstance(requests, dict):
            requests.pop("storage", None)
    return spec


def _annotations(obj: Obj) -> dict[str, Any]:
    return mapping(get_path(obj, "metadata", "annotations"))


STRATEGY = PersistentVolumeClaimStrategy(KIND, tracks_generation=False)
