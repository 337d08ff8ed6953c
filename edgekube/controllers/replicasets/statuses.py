"""A ReplicaSet's status, computed from the pods it owns.

`replicas` counts the active pods (being deleted or finished ones do not count);
`fullyLabeledReplicas` those that carry every label of the template; `readyReplicas`
the ready ones; `availableReplicas` those ready for at least `minReadySeconds`. A failed
create or delete sets the `ReplicaFailure` condition (kept until a sync succeeds). Zero
counters are left out, as Kubernetes serialises them (`replicas` is always present).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from edgekube.controllers.replicasets.readiness import is_ready, seconds_until_available
from edgekube.resources.kinds.workload_causes import as_int, dicts, mapping
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import format_time

REPLICA_FAILURE = "ReplicaFailure"
COUNTERS = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration")


def replica_set_status(
    rs: Obj, pods: Sequence[Obj], failure: Exception | None, now: datetime
) -> tuple[Obj, float | None]:
    """The new status, and in how many seconds a ready pod becomes available (None: none will)."""
    spec = mapping(rs.get("spec"))
    template_labels = mapping(get_path(spec, "template", "metadata", "labels"))
    min_ready = as_int(spec.get("minReadySeconds")) or 0
    labeled = ready = available = 0
    soonest: float | None = None
    for pod in pods:
        labels = mapping(get_path(pod, "metadata", "labels"))
        if all(labels.get(k) == v for k, v in template_labels.items()):
            labeled += 1
        if not is_ready(pod):
            continue
        ready += 1
        wait = seconds_until_available(pod, min_ready, now)
        if wait is None:
            continue
        if wait == 0:
            available += 1
        elif soonest is None or wait < soonest:
            soonest = wait
    status: Obj = {k: v for k, v in mapping(rs.get("status")).items() if k not in COUNTERS}
    status["replicas"] = len(pods)
    for key, value in (
        ("fullyLabeledReplicas", labeled),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("observedGeneration", as_int(get_path(rs, "metadata", "generation")) or 0),
    ):
        if value:
            status[key] = value
    _set_failure(status, rs, len(pods), failure, now)
    return status, soonest


def _set_failure(status: Obj, rs: Obj, pod_count: int, failure: Exception | None, now: datetime) -> None:
    conditions = [copy.deepcopy(c) for _, c in dicts(status.get("conditions"))]
    existing = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
    if failure is not None and existing is None:
        desired = as_int(get_path(rs, "spec", "replicas")) or 0
        reason = "FailedCreate" if pod_count < desired else "FailedDelete"
        conditions.append(
            {
                "type": REPLICA_FAILURE,
                "status": "True",
                "lastTransitionTime": format_time(now),
                "reason": reason,
                "message": getattr(failure, "message", None) or str(failure),
            }
        )
    elif failure is None and existing is not None:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def status_changed(old: Any, new: Obj) -> bool:
    """Whether writing `new` over `old` changes anything a reader could see (0 = absent)."""
    return _normal(mapping(old)) != _normal(new)


def _normal(status: Obj) -> Obj:
    out = {k: v for k, v in status.items() if not (k in COUNTERS and not v)}
    out["replicas"] = as_int(status.get("replicas")) or 0
    return out
