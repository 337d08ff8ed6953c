"""The StorageClass kind (storage.k8s.io/v1): how to provision volumes of one kind.

A class is cluster-scoped, and its provisioner, parameters, reclaim policy and binding
mode are fixed at creation: volumes already provisioned from it were made with them.
Expansion, mount options and topologies may change. The class annotated as default shows as
"local-path (default)" in `kubectl get storageclass`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each
from edgekube.resources.kinds.common_fields import immutable_causes, mapping, text
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import (
    forbidden,
    invalid_value,
    is_qualified_name,
    required,
    too_long,
    unsupported_value,
)

KIND = Kind(
    group='storage.k8s.io',
    version='v1',
    kind='StorageClass',
    plural='storageclasses',
    singular='storageclass',
    namespaced=False,
    short_names=('sc',),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Provisioner", description="The volume plugin that provisions volumes of this class"),
    Column("ReclaimPolicy", description="What happens to a released volume"),
    Column("VolumeBindingMode", description="When volumes are bound and provisioned"),
    Column("AllowVolumeExpansion", description="Whether claims of this class may grow"),
    AGE_COLUMN,
)

RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
MAX_PARAMETERS = 512
MAX_PARAMETERS_BYTES = 256 * 1024


@dataclass
class StorageClassStrategy(Strategy):
    """StorageClasses: a provisioner, bounded parameters, and nothing changes later."""

    columns: tuple[Column, ...] = COLUMNS

    def default(self, obj: Obj) -> None:
        if not obj.get("reclaimPolicy"):
            obj["reclaimPolicy"] = "Delete"
        if not obj.get("volumeBindingMode"):
            obj["volumeBindingMode"] = "Immediate"

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        provisioner = obj.get("provisioner")
        if not provisioner:
            causes.append(required("provisioner"))
        elif isinstance(provisioner, str):
            problems = is_qualified_name(provisioner.lower())
            causes += invalid_each("provisioner", provisioner, problems)
        causes += _validate_parameters(obj.get("parameters"))
        policy = obj.get("reclaimPolicy")
        if policy and policy not in RECLAIM_POLICIES:
            causes.append(unsupported_value("reclaimPolicy", policy, RECLAIM_POLICIES))
        mode = obj.get("volumeBindingMode")
        if mode is None:
            causes.append(required("volumeBindingMode"))
        elif mode not in BINDING_MODES:
            causes.append(unsupported_value("volumeBindingMode", mode, BINDING_MODES))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        # Parameters are compared as maps: an empty value is a setting, not an absence.
        if mapping(new.get("parameters")) != mapping(old.get("parameters")):
            causes.append(forbidden("parameters", "updates to parameters are forbidden."))
        for key in ("provisioner", "reclaimPolicy"):
            if text(new.get(key)) != text(old.get(key)):
                causes.append(forbidden(key, f"updates to {key} are forbidden."))
        return causes + immutable_causes(new, old, [("volumeBindingMode",)])

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        name = text(get_path(obj, "metadata", "name"))
        if is_default_class(obj):
            name += " (default)"
        return [
            name,
            text(obj.get("provisioner")),
            text(obj.get("reclaimPolicy")) or "Delete",
            text(obj.get("volumeBindingMode")) or "Immediate",
            obj.get("allowVolumeExpansion") is True,
            age(obj, now),
        ]


def is_default_class(obj: Obj) -> bool:
    """Whether claims without a class get this one (the is-default-class annotation)."""
    annotations = mapping(get_path(obj, "metadata", "annotations"))
    return any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def _validate_parameters(parameters: Any) -> list[Cause]:
    params = mapping(parameters)
    if len(params) > MAX_PARAMETERS:
        return [too_long("parameters", MAX_PARAMETERS)]
    causes: list[Cause] = []
    total = 0
    for key, value in params.items():
        if not key:
            causes.append(invalid_value("parameters", key, "field can not be empty."))
        total += len(key) + len(text(value))
    if total > MAX_PARAMETERS_BYTES:
        causes.append(too_long("parameters", MAX_PARAMETERS_BYTES))
    return causes


STRATEGY = StorageClassStrategy(KIND, tracks_generation=False)
