"""A Deployment's status, from its ReplicaSets, and the tests on it that rollouts use.

`replicas`, `readyReplicas` and `availableReplicas` add up the ReplicaSets' status;
`updatedReplicas` is the new ReplicaSet's pods; `unavailableReplicas` is what the
ReplicaSets are asked to run minus what is available. `Available` is True while at
least `replicas - maxUnavailable` pods are available. Zero counters are left out, as
Kubernetes serialises them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from edgekube.controllers.deployments.conditions import (
    AVAILABLE,
    MIN_AVAILABLE,
    MIN_UNAVAILABLE,
    NEW_RS_AVAILABLE,
    PROGRESSING,
    TIMED_OUT,
    conditions_of,
    get_condition,
    new_condition,
    set_condition,
)
from edgekube.controllers.deployments.sizing import desired_replicas, max_unavailable
from edgekube.resources.kinds.workload_causes import as_int, mapping
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import parse_time

COUNTERS = (
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
    "collisionCount",
)
NO_DEADLINE = 2**31 - 1  # Kubernetes' "never" for progressDeadlineSeconds


def counter(obj: Obj, *path: str) -> int:
    return as_int(get_path(obj, *path)) or 0


def spec_replicas(rs: Obj) -> int:
    return counter(rs, "spec", "replicas")


def calculate_status(deployment: Obj, replica_sets: Sequence[Obj], new_rs: Obj | None, now: str) -> Obj:
    """The status to write: counters from `replica_sets`, conditions carried over plus Available."""
    old = mapping(deployment.get("status"))
    available = sum(counter(rs, "status", "availableReplicas") for rs in replica_sets)
    wanted = sum(spec_replicas(rs) for rs in replica_sets)
    values = {
        "observedGeneration": counter(deployment, "metadata", "generation"),
        "replicas": sum(counter(rs, "status", "replicas") for rs in replica_sets),
        "updatedReplicas": counter(new_rs, "status", "replicas") if new_rs is not None else 0,
        "readyReplicas": sum(counter(rs, "status", "readyReplicas") for rs in replica_sets),
        "availableReplicas": available,
        "unavailableReplicas": max(0, wanted - available),
        "collisionCount": as_int(old.get("collisionCount")) or 0,
    }
    status: Obj = {k: v for k, v in values.items() if v}
    conditions = conditions_of(old)
    if conditions:
        status["conditions"] = [dict(c) for c in conditions]
    if available >= desired_replicas(deployment) - max_unavailable(deployment):
        set_condition(
            status, new_condition(AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.", now)
        )
    else:
        set_condition(
            status,
            new_condition(AVAILABLE, "False", MIN_UNAVAILABLE, "Deployment does not have minimum availability.", now),
        )
    return status


def complete(deployment: Obj, status: Obj) -> bool:
    """Every replica updated and available, and this generation observed."""
    desired = desired_replicas(deployment)
    return (
        counter(status, "updatedReplicas") == desired
        and counter(status, "replicas") == desired
        and counter(status, "availableReplicas") == desired
        and counter(status, "observedGeneration") >= counter(deployment, "metadata", "generation")
    )


def progressing(deployment: Obj, status: Obj) -> bool:
    """Whether `status` shows progress over the Deployment's current one."""
    old = mapping(deployment.get("status"))
    old_leftovers = counter(old, "replicas") - counter(old, "updatedReplicas")
    new_leftovers = counter(status, "replicas") - counter(status, "updatedReplicas")
    return (
        counter(status, "updatedReplicas") > counter(old, "updatedReplicas")
        or new_leftovers < old_leftovers
        or counter(status, "readyReplicas") > counter(old, "readyReplicas")
        or counter(status, "availableReplicas") > counter(old, "availableReplicas")
    )


def deadline_seconds(deployment: Obj) -> int | None:
    """`progressDeadlineSeconds`, or None when the Deployment has no deadline."""
    value = as_int(get_path(deployment, "spec", "progressDeadlineSeconds"))
    return None if value is None or value == NO_DEADLINE else value


def seconds_to_deadline(deployment: Obj, status: Obj, now: datetime) -> float | None:
    """Seconds until the rollout runs out of time (<= 0: it has); None when it cannot time out.

    The clock restarts at each sign of progress: it counts from the Progressing
    condition's `lastUpdateTime`.
    """
    deadline = deadline_seconds(deployment)
    cond = get_condition(status, PROGRESSING)
    if deadline is None or cond is None or cond.get("reason") in (NEW_RS_AVAILABLE, TIMED_OUT):
        return None
    since = parse_time(cond.get("lastUpdateTime"))
    if since is None:
        return None
    return (since + timedelta(seconds=deadline) - now).total_seconds()


def timed_out(deployment: Obj, status: Obj, now: datetime) -> bool:
    cond = get_condition(status, PROGRESSING)
    if deadline_seconds(deployment) is not None and cond is not None and cond.get("reason") == TIMED_OUT:
        return True
    left = seconds_to_deadline(deployment, status, now)
    return left is not None and left < 0


def status_changed(old: Obj, new: Obj) -> bool:
    """Whether `new` differs from `old` for a reader (a 0 counter equals an absent one)."""

    def normal(status: Obj) -> Obj:
        return {k: v for k, v in status.items() if not (k in COUNTERS and not v)}

    return normal(mapping(old)) != normal(new)
