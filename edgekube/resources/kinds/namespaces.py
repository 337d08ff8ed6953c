"""The Namespace kind (v1): names that are DNS labels, the `kubernetes` finalizer, phases.

A namespace is born Active with the `kubernetes` finalizer, which the namespace
controller removes once everything inside is gone; the phase turns Terminating when
deletion starts. Every write stamps the `kubernetes.io/metadata.name` label so that
namespace selectors can pick a namespace by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import mapping, text
from edgekube.resources.objects import Obj, ensure_dict, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import (
    invalid_value,
    is_dns1123_label,
    is_qualified_name,
)

KIND = Kind(
    group='',
    version='v1',
    kind='Namespace',
    plural='namespaces',
    singular='namespace',
    namespaced=False,
    short_names=('ns',),
    categories=(),
    has_status=True,
    has_scale=False,
)

FINALIZER = "kubernetes"
NAME_LABEL = "kubernetes.io/metadata.name"
# Finalizer names Kubernetes itself defines; any other must be domain-qualified.
_STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")

COLUMNS = (
    NAME_COLUMN,
    Column("Status", description="The status of the namespace"),
    AGE_COLUMN,
)


@dataclass
class NamespaceStrategy(Strategy):
    """Namespaces: DNS-label names, the `kubernetes` finalizer, Active/Terminating phases."""

    columns: tuple[Column, ...] = COLUMNS

    def name_problems(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"phase": "Active"}

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        # Added on create only: later updates may drop it (that is how deletion finishes).
        finalizers = ensure_dict(obj, "spec").get("finalizers")
        if not isinstance(finalizers, list):
            obj["spec"]["finalizers"] = [FINALIZER]
        elif FINALIZER not in finalizers:
            finalizers.append(FINALIZER)

    def default(self, obj: Obj) -> None:
        name = get_path(obj, "metadata", "name")
        if isinstance(name, str) and name:
            ensure_dict(obj, "metadata", "labels")[NAME_LABEL] = name

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + _validate_finalizers(get_path(obj, "spec", "finalizers"))

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_status_update(new, old)
        phase = get_path(new, "status", "phase")
        deleting = bool(get_path(old, "metadata", "deletionTimestamp"))
        if deleting and phase != "Terminating":
            causes.append(invalid_value(
                "status.phase", phase,
                "may only be in 'Terminating' phase if `deletionTimestamp` is not empty",
            ))
        elif not deleting and phase != "Active":
            causes.append(invalid_value(
                "status.phase", phase, "may only be 'Active' if `deletionTimestamp` is empty"
            ))
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        return [get_path(obj, "metadata", "name"), text(get_path(obj, "status", "phase")),
                age(obj, now)]

    def field_values(self, obj: Obj) -> dict[str, str]:
        values = super().field_values(obj)
        values["status.phase"] = text(get_path(obj, "status", "phase"))
        # Kubernetes serves the bare `name` as well, for old clients.
        values["name"] = text(mapping(obj.get("metadata")).get("name"))
        return values


def _validate_finalizers(finalizers: Any) -> list[Cause]:
    if not isinstance(finalizers, list):
        return []
    causes: list[Cause] = []
    for i, name in enumerate(finalizers):
        field = f"spec.finalizers[{i}]"
        if not isinstance(name, str):
            causes.append(invalid_value(field, name, "must be a string"))
            continue
        problems = is_qualified_name(name)
        causes += [invalid_value(field, name, p) for p in problems]
        if not problems and "/" not in name and name not in _STANDARD_FINALIZERS:
            causes.append(invalid_value(
                field, name, "name is neither a standard finalizer name nor is it fully qualified"
            ))
    return causes


STRATEGY = NamespaceStrategy(KIND, tracks_generation=False)
