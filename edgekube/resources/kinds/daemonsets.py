"""The DaemonSet kind (apps/v1): defaults, checks and `kubectl get` columns.

A DaemonSet runs one pod of its template on every node its template's nodeSelector
admits. Updates replace pods node by node (`RollingUpdate`: one node down at a time by
default, or one extra pod with maxSurge) or only when a pod is deleted (`OnDelete`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import as_int, check_ints, mapping, required_because
from edgekube.resources.kinds.workload_intstr import (
    not_over_100_percent,
    raw_value,
    validate_int_or_percent,
)
from edgekube.resources.kinds.workload_replicas import validate_selector_unchanged
from edgekube.resources.kinds.workload_selectors import (
    format_labels,
    validate_workload_selector,
)
from edgekube.resources.kinds.workload_status import validate_counters
from edgekube.resources.kinds.workload_templates import (
    default_pod_template,
    default_rolling_strategy,
    template_cells,
    template_columns,
    validate_controller_template,
)
from edgekube.resources.objects import Obj, get_path, set_default
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import invalid_value, required, unsupported_value

KIND = Kind(
    group="apps",
    version="v1",
    kind="DaemonSet",
    plural="daemonsets",
    singular="daemonset",
    namespaced=True,
    short_names=("ds",),
    categories=("all",),
    has_status=True,
    has_scale=False,
)

UPDATE_STRATEGY_TYPES = ("RollingUpdate", "OnDelete")

COLUMNS = (
    NAME_COLUMN,
    Column("Desired", type="integer", description="Nodes that should run the daemon pod."),
    Column("Current", type="integer", description="Nodes that run at least one daemon pod."),
    Column("Ready", type="integer", description="Nodes whose daemon pod is ready."),
    Column("Up-to-date", type="integer", description="Nodes running the current template."),
    Column("Available", type="integer", description="Nodes whose daemon pod is available."),
    Column("Node Selector", description="The node selector of the pod template."),
    AGE_COLUMN,
    *template_columns("daemon set"),
)

# The first four are always present in apps/v1 status, so a new DaemonSet shows them as 0.
_ALWAYS_SHOWN = (
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
)
_COUNTERS = (
    *_ALWAYS_SHOWN,
    "observedGeneration",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
    "collisionCount",
)


@dataclass
class DaemonSetStrategy(Strategy):
    """DaemonSet defaults, checks and columns."""

    columns: tuple[Column, ...] = field(default=COLUMNS)
    tracks_generation: bool = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return dict.fromkeys(_ALWAYS_SHOWN, 0)

    def default(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        set_default(spec, "updateStrategy", {})
        strategy = spec["updateStrategy"]
        if isinstance(strategy, dict):
            default_rolling_strategy(strategy, max_unavailable=1, max_surge=0)
        set_default(spec, "revisionHistoryLimit", 10)
        default_pod_template(spec.get("template"))

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + _validate_spec(obj.get("spec"))

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return super().validate_update(new, old) + validate_selector_unchanged(new, old)

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_status_update(new, old)
        return causes + validate_counters(new.get("status"), _COUNTERS, ())

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        status = mapping(obj.get("status"))
        return [
            get_path(obj, "metadata", "name"),
            as_int(status.get("desiredNumberScheduled")) or 0,
            as_int(status.get("currentNumberScheduled")) or 0,
            as_int(status.get("numberReady")) or 0,
            as_int(status.get("updatedNumberScheduled")) or 0,
            as_int(status.get("numberAvailable")) or 0,
            format_labels(get_path(obj, "spec", "template", "spec", "nodeSelector")),
            age(obj, now),
            *template_cells(obj),
        ]


def _validate_spec(spec: Any) -> list[Cause]:
    if not isinstance(spec, dict):
        return [required("spec")]
    selector = spec.get("selector")
    causes = validate_workload_selector(selector, "spec.selector", "daemonset")
    causes += validate_controller_template(spec.get("template"), selector, "spec.template", "DaemonSet")
    causes += check_ints(spec, ("minReadySeconds", "revisionHistoryLimit", "templateGeneration"), "spec")
    causes += validate_update_strategy(spec.get("updateStrategy"), "spec.updateStrategy")
    return causes


def validate_update_strategy(strategy: Any, path: str) -> list[Cause]:
    """Problems with a DaemonSet's `updateStrategy`."""
    if not isinstance(strategy, dict):
        return []
    kind = strategy.get("type")
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        return [unsupported_value(f"{path}.type", kind, UPDATE_STRATEGY_TYPES)]
    rolling = strategy.get("rollingUpdate")
    if not isinstance(rolling, dict):
        return [required(f"{path}.rollingUpdate")]
    at = f"{path}.rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    causes = validate_int_or_percent(unavailable, f"{at}.maxUnavailable")
    causes += validate_int_or_percent(surge, f"{at}.maxSurge")
    causes += not_over_100_percent(unavailable, f"{at}.maxUnavailable")
    causes += not_over_100_percent(surge, f"{at}.maxSurge")
    # A node either loses its old pod first or gains the new one first, not both.
    has_unavailable, has_surge = raw_value(unavailable) != 0, raw_value(surge) != 0
    if has_unavailable and has_surge:
        causes.append(invalid_value(f"{at}.maxSurge", surge, "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        causes.append(required_because(f"{at}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return causes


STRATEGY = DaemonSetStrategy(KIND)
