"""Deployment conditions: their types, Kubernetes' reasons, and how one is set.

`kubectl rollout status` and `kubectl describe` read these, so the reasons and messages
keep Kubernetes' wording. Setting a condition whose status and reason are unchanged
keeps the old one (timestamps included); a changed one keeps `lastTransitionTime` when
only the reason changed, and moves to the end of the list.
"""

from __future__ import annotations

import copy
from typing import Any

from edgekube.resources.kinds.workload_causes import dicts
from edgekube.resources.objects import Obj

AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"

# Progressing
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
FAILED_RS_CREATE = "ReplicaSetCreateError"
# Available
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


def new_condition(type_: str, status: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def conditions_of(status: Obj) -> list[dict[str, Any]]:
    return [c for _, c in dicts(status.get("conditions"))]


def get_condition(status: Obj, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions_of(status) if c.get("type") == type_), None)


def set_condition(status: Obj, condition: Obj) -> None:
    """Put `condition` into `status` (in place), keeping an equal one as it is."""
    current = get_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"]:
        if current.get("reason") == condition["reason"]:
            return
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    kept = [c for c in conditions_of(status) if c.get("type") != condition["type"]]
    status["conditions"] = [*kept, copy.deepcopy(condition)]


def remove_condition(status: Obj, type_: str) -> None:
    kept = [c for c in conditions_of(status) if c.get("type") != type_]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)
