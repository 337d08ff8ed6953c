"""What an update may change in the spec of a pod that already exists.

A pod is a running thing: the kubelet acted on its spec, so almost all of it is fixed.
The few mutable fields are copied from the old spec into the new one ("munged"); if the
two then still differ, something immutable changed and the whole spec is refused with
Kubernetes' message. Before the comparison, null, empty strings, empty lists and empty
maps count as absent, as Go's semantic equality treats them.
"""

from __future__ import annotations

import copy
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_tolerations import validate_toleration_update
from edgekube.resources.kinds.workload_causes import INT32_MAX, as_int, dicts
from edgekube.resources.validation import forbidden, invalid_value

UPDATABLE_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)
# Kubernetes joins the list without spaces; keep it so the message can be searched for.
IMMUTABLE_SPEC_MESSAGE = "pod updates may not change fields other than " + ",".join(UPDATABLE_FIELDS)


def validate_pod_spec_update(new: Any, old: Any, path: str = "spec") -> list[Cause]:
    """Problems with replacing pod spec `old` by `new` (both already defaulted)."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return []
    causes: list[Cause] = []
    for key in ("containers", "initContainers"):
        if len(dicts(new.get(key))) != len(dicts(old.get(key))):
            causes.append(forbidden(f"{path}.{key}", "pod updates may not add or remove containers"))
    if causes:
        return causes
    causes += _deadline(new.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds"), path)
    causes += validate_toleration_update(new.get("tolerations"), old.get("tolerations"), f"{path}.tolerations")
    if _normal(_munged(new, old)) != _normal(old):
        causes.append(forbidden(path, IMMUTABLE_SPEC_MESSAGE))
    return causes


def _deadline(new: Any, old: Any, path: str) -> list[Cause]:
    """The deadline may be set, or lowered, but never raised or removed."""
    field = f"{path}.activeDeadlineSeconds"
    new_value, old_value = as_int(new), as_int(old)
    if new is None:
        if old_value is not None:
            return [invalid_value(field, None, "must not update from a positive integer to nil value")]
        return []
    if new_value is None or not 0 <= new_value <= INT32_MAX:
        return [invalid_value(field, new, f"must be between 0 and {INT32_MAX}, inclusive")]
    if old_value is not None and new_value > old_value:
        return [invalid_value(field, new_value, "must be less than or equal to previous value")]
    return []


def _munged(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """`new` with every field an update may change put back to its `old` value."""
    munged = copy.deepcopy(new)
    for key in ("containers", "initContainers"):
        for (_, container), (_, before) in zip(dicts(munged.get(key)), dicts(old.get(key)), strict=False):
            _copy_key(container, before, "image")
    for key in ("activeDeadlineSeconds", "tolerations"):
        _copy_key(munged, old, key)
    old_grace = as_int(old.get("terminationGracePeriodSeconds"))
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    # Binding sets the node once; after that the node is as fixed as the rest.
    if not old.get("nodeName"):
        _copy_key(munged, old, "nodeName")
    return munged


def _copy_key(into: dict[str, Any], source: dict[str, Any], key: str) -> None:
    if key in source:
        into[key] = copy.deepcopy(source[key])
    else:
        into.pop(key, None)


def _normal(value: Any) -> Any:
    """`value` with null, "", [] and {} dropped from maps, recursively."""
    if isinstance(value, dict):
        out = {k: _normal(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value
