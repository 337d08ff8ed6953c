"""The Deployment kind (apps/v1): defaults, checks and `kubectl get` columns.

A Deployment rolls its pod template out through ReplicaSets, either replacing all pods
at once (`Recreate`) or a few at a time (`RollingUpdate`, bounded by maxSurge and
maxUnavailable). Defaults follow apps/v1: one replica, RollingUpdate 25%/25%, ten old
ReplicaSets kept, ten minutes to make progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import as_int, check_int, mapping, required_because
from edgekube.resources.kinds.workload_intstr import (
    not_over_100_percent,
    raw_value,
    validate_int_or_percent,
)
from edgekube.resources.kinds.workload_replicas import (
    validate_replica_spec,
    validate_selector_unchanged,
)
from edgekube.resources.kinds.workload_status import validate_counters
from edgekube.resources.kinds.workload_templates import (
    default_pod_template,
    default_rolling_strategy,
    template_cells,
    template_columns,
)
from edgekube.resources.objects import Obj, get_path, set_default
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import forbidden, invalid_value, unsupported_value

KIND = Kind(
    group="apps",
    version="v1",
    kind="Deployment",
    plural="deployments",
    singular="deployment",
    namespaced=True,
    short_names=("deploy",),
    categories=("all",),
    has_status=True,
    has_scale=True,
)

STRATEGY_TYPES = ("Recreate", "RollingUpdate")
DEFAULT_SURGE = "25%"
DEFAULT_UNAVAILABLE = "25%"

COLUMNS = (
    NAME_COLUMN,
    Column("Ready", description="Ready pods out of the desired replicas."),
    Column("Up-to-date", type="integer", description="Pods running the current template."),
    Column("Available", type="integer", description="Pods ready for at least minReadySeconds."),
    AGE_COLUMN,
    *template_columns("deployment"),
)

_COUNTERS = (
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
    "terminatingReplicas",
    "collisionCount",
)
_ORDERING = (
    ("updatedReplicas", "replicas"),
    ("readyReplicas", "replicas"),
    ("availableReplicas", "replicas"),
    ("availableReplicas", "readyReplicas"),
)


@dataclass
class DeploymentStrategy(Strategy):
    """Deployment defaults, checks and columns."""

    columns: tuple[Column, ...] = field(default=COLUMNS)
    tracks_generation: bool = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {}

    def default(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        set_default(spec, "replicas", 1)
        set_default(spec, "strategy", {})
        strategy = spec["strategy"]
        if isinstance(strategy, dict):
            default_rolling_strategy(strategy, max_unavailable=DEFAULT_UNAVAILABLE, max_surge=DEFAULT_SURGE)
        set_default(spec, "revisionHistoryLimit", 10)
        set_default(spec, "progressDeadlineSeconds", 600)
        default_pod_template(spec.get("template"))

    def validate(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec")
        causes = super().validate(obj) + validate_replica_spec(spec)
        if isinstance(spec, dict):
            causes += validate_rollout(spec.get("strategy"), "spec.strategy")
            causes += _limits(spec)
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return super().validate_update(new, old) + validate_selector_unchanged(new, old)

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_status_update(new, old)
        return causes + validate_counters(new.get("status"), _COUNTERS, _ORDERING)

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        desired = as_int(get_path(obj, "spec", "replicas")) or 0
        status = mapping(obj.get("status"))
        ready = as_int(status.get("readyReplicas")) or 0
        return [
            get_path(obj, "metadata", "name"),
            f"{ready}/{desired}",
            as_int(status.get("updatedReplicas")) or 0,
            as_int(status.get("availableReplicas")) or 0,
            age(obj, now),
            *template_cells(obj),
        ]


def validate_rollout(strategy: Any, path: str) -> list[Cause]:
    """Problems with a Deployment's `strategy`."""
    if not isinstance(strategy, dict):
        return []
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            return [
                forbidden(
                    f"{path}.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if kind != "RollingUpdate":
        return [unsupported_value(f"{path}.type", kind, STRATEGY_TYPES)]
    if not isinstance(rolling, dict):
        return [required_because(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
    at = f"{path}.rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    causes = validate_int_or_percent(unavailable, f"{at}.maxUnavailable")
    causes += validate_int_or_percent(surge, f"{at}.maxSurge")
    # With neither extra pods nor missing pods allowed, a rollout could never move.
    if raw_value(unavailable) == 0 and raw_value(surge) == 0:
        causes.append(invalid_value(f"{at}.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0"))
    causes += not_over_100_percent(unavailable, f"{at}.maxUnavailable")
    return causes


def _limits(spec: dict[str, Any]) -> list[Cause]:
    """revisionHistoryLimit and progressDeadlineSeconds: counts, the deadline past minReady."""
    causes = check_int(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit")
    causes += check_int(spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds")
    deadline = as_int(spec.get("progressDeadlineSeconds"))
    min_ready = as_int(spec.get("minReadySeconds")) or 0
    if deadline is not None and deadline <= min_ready:
        causes.append(invalid_value("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    return causes


STRATEGY = DeploymentStrategy(KIND)
