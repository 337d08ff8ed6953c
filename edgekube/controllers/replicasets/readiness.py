"""What a controller needs to know about one pod: active, ready, and since when.

A pod is *active* while it may still run (not Succeeded or Failed, not being deleted);
it is *ready* when its `Ready` condition is True, and *available* once it has been ready
for at least `minReadySeconds`, counted from that condition's `lastTransitionTime`.
Timestamps are RFC 3339 strings with second precision, as the API writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgekube.resources.kinds.workload_causes import dicts, mapping
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import parse_time

TERMINAL_PHASES = ("Succeeded", "Failed")


def is_deleting(obj: Obj) -> bool:
    return bool(get_path(obj, "metadata", "deletionTimestamp"))


def is_active(pod: Obj) -> bool:
    """Whether the pod still counts as a replica: it may run and is not being deleted."""
    return get_path(pod, "status", "phase") not in TERMINAL_PHASES and not is_deleting(pod)


def ready_condition(pod: Obj) -> dict[str, Any] | None:
    for _, cond in dicts(mapping(pod.get("status")).get("conditions")):
        if cond.get("type") == "Ready":
            return cond
    return None


def is_ready(pod: Obj) -> bool:
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: Obj) -> datetime | None:
    """When the pod last became ready; None if it is not ready (or does not say when)."""
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    return parse_time(cond.get("lastTransitionTime"))


def seconds_until_available(pod: Obj, min_ready_seconds: int, now: datetime) -> float | None:
    """0 when the pod is available now, the seconds left when it will be, None when it will not.

    Available means ready for at least minReadySeconds (Kubernetes says "longer than"; with
    timestamps in whole seconds the difference is below what they can show). A ready pod
    without a transition time is available only when minReadySeconds is 0.
    """
    if not is_ready(pod):
        return None
    if min_ready_seconds <= 0:
        return 0.0
    since = ready_since(pod)
    if since is None:
        return None
    left = (since - now).total_seconds() + min_ready_seconds
    return 0.0 if left <= 0 else left


def restart_count(pod: Obj) -> int:
    """The highest restart count among the pod's containers."""
    counts = [c.get("restartCount") for _, c in dicts(mapping(pod.get("status")).get("containerStatuses"))]
    return max((n for n in counts if isinstance(n, int) and not isinstance(n, bool)), default=0)
