"""Access modes, volume modes, storage sizes and class names: what PVs and PVCs share.

Sizes are Kubernetes quantities ("10Gi"); `pod_quantities` parses them exactly, so a
claim growing from "1Gi" to "1024Mi" is seen as no change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each, required_because
from edgekube.resources.kinds.common_fields import mapping, text
from edgekube.resources.kinds.pod_quantities import QUANTITY_FORMAT_ERROR, parse_quantity
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.validation import (
    forbidden,
    invalid_value,
    is_dns1123_subdomain,
    required,
    unsupported_value,
)

ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")
# kubectl's short forms, in the order kubectl prints them.
_SHORT_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
# The annotation that named a class before `spec.storageClassName`; it still wins.
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def validate_access_modes(modes: Any, field: str, *, missing: str = "") -> list[Cause]:
    """Known modes, at least one, and ReadWriteOncePod alone (it means one pod only)."""
    if not isinstance(modes, list) or not modes:
        return [required_because(field, missing) if missing else required(field)]
    causes = [unsupported_value(field, m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]
    others = [m for m in modes if m in ACCESS_MODES and m != "ReadWriteOncePod"]
    if "ReadWriteOncePod" in modes and others:
        causes.append(forbidden(field, "may not use ReadWriteOncePod with other access modes"))
    return causes


def validate_volume_mode(value: Any, field: str) -> list[Cause]:
    if value is None or value in VOLUME_MODES:
        return []
    return [unsupported_value(field, value, VOLUME_MODES)]


def storage_size(value: Any) -> Decimal | None:
    """The bytes a size quantity stands for, or None when it is not a quantity."""
    try:
        return parse_quantity(value)
    except ValueError:
        return None


def validate_storage_size(value: Any, field: str) -> list[Cause]:
    """A required, positive quantity at `field`."""
    if value is None:
        return [required(field)]
    size = storage_size(value)
    if size is None:
        return [invalid_value(field, value, QUANTITY_FORMAT_ERROR)]
    if size <= 0:
        return [invalid_value(field, value, "must be greater than zero")]
    return []


def validate_class_name(value: Any, field: str) -> list[Cause]:
    """An optional storage class name: empty means "no class", otherwise a DNS subdomain."""
    name = text(value)
    return invalid_each(field, name, is_dns1123_subdomain(name)) if name else []


def access_modes_short(modes: Any) -> str:
    """`RWO,ROX`: the modes present, short and in kubectl's fixed order."""
    present = set(m for m in modes if isinstance(m, str)) if isinstance(modes, list) else set()
    return ",".join(short for mode, short in _SHORT_MODES if mode in present)


def class_name(obj: Obj) -> str:
    """The storage class a PV or PVC asks for, as kubectl shows it ("" for none)."""
    beta = mapping(get_path(obj, "metadata", "annotations")).get(BETA_CLASS_ANNOTATION)
    if isinstance(beta, str):
        return beta
    return text(get_path(obj, "spec", "storageClassName"))


def phase_or_terminating(obj: Obj) -> str:
    """`status.phase`, or "Terminating" once deletion has begun (as kubectl shows it)."""
    if get_path(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    return text(get_path(obj, "status", "phase"))
