"""The ReplicaSet kind (apps/v1): defaults, checks and `kubectl get` columns.

A ReplicaSet keeps `replicas` pods of its template running; Deployments own them, one
per template revision. It starts with `status.replicas: 0` (the field is always
present in apps/v1) and serves `status.replicas` as a field selector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import as_int, mapping
from edgekube.resources.kinds.workload_replicas import (
    validate_replica_spec,
    validate_selector_unchanged,
)
from edgekube.resources.kinds.workload_status import validate_counters
from edgekube.resources.kinds.workload_templates import (
    default_pod_template,
    template_cells,
    template_columns,
)
from edgekube.resources.objects import Obj, get_path, set_default
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age

KIND = Kind(
    group="apps",
    version="v1",
    kind="ReplicaSet",
    plural="replicasets",
    singular="replicaset",
    namespaced=True,
    short_names=("rs",),
    categories=("all",),
    has_status=True,
    has_scale=True,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Desired", type="integer", description="The number of pods wanted."),
    Column("Current", type="integer", description="The number of pods that exist."),
    Column("Ready", type="integer", description="The number of pods that are ready."),
    AGE_COLUMN,
    *template_columns("replica set"),
)

_COUNTERS = (
    "observedGeneration",
    "replicas",
    "fullyLabeledReplicas",
    "readyReplicas",
    "availableReplicas",
    "terminatingReplicas",
)
_ORDERING = (
    ("fullyLabeledReplicas", "replicas"),
    ("readyReplicas", "replicas"),
    ("availableReplicas", "replicas"),
    ("availableReplicas", "readyReplicas"),
)


@dataclass
class ReplicaSetStrategy(Strategy):
    """ReplicaSet defaults, checks and columns."""

    columns: tuple[Column, ...] = field(default=COLUMNS)
    tracks_generation: bool = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"replicas": 0}

    def default(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        set_default(spec, "replicas", 1)
        default_pod_template(spec.get("template"))

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_replica_spec(obj.get("spec"))

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return super().validate_update(new, old) + validate_selector_unchanged(new, old)

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_status_update(new, old)
        return causes + validate_counters(new.get("status"), _COUNTERS, _ORDERING)

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        status = mapping(obj.get("status"))
        return [
            get_path(obj, "metadata", "name"),
            as_int(get_path(obj, "spec", "replicas")) or 0,
            as_int(status.get("replicas")) or 0,
            as_int(status.get("readyReplicas")) or 0,
            age(obj, now),
            *template_cells(obj),
        ]

    def field_values(self, obj: Obj) -> dict[str, str]:
        values = super().field_values(obj)
        values["status.replicas"] = str(as_int(get_path(obj, "status", "replicas")) or 0)
        return values


STRATEGY = ReplicaSetStrategy(KIND)
