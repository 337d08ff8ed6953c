"""A DaemonSet's status counters, from its nodes and pods (Kubernetes' `updateDaemonSetStatus`).

Per node that should run the daemon: desired; with a pod, current (scheduled); that pod
(the first in creation order) ready, available (ready for minReadySeconds), updated (the
current template's hash). Per node that should not but has a pod: misscheduled. As on the
wire from Kubernetes, the four counters apps/v1 always shows are written even when 0, the
others only when not 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgekube.controllers.daemonsets.planning import Placement
from edgekube.controllers.daemonsets.pods import available_at, creation_order, is_ready, is_updated
from edgekube.resources.objects import Obj, get_path

ALWAYS_SHOWN = ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady")
KEPT = ("collisionCount", "conditions")  # fields of the status this controller does not compute


def daemon_status(
    daemonset: Obj,
    node_names: list[str],
    by_node: dict[str, list[Obj]],
    placement: Placement,
    revision_hash: str,
    now: datetime,
) -> tuple[dict[str, Any], datetime | None]:
    """The status counters, and when a ready pod will next become available (for a requeue)."""
    min_ready = get_path(daemonset, "spec", "minReadySeconds")
    min_ready = min_ready if isinstance(min_ready, int) and not isinstance(min_ready, bool) else 0
    counts = dict.fromkeys(
        ("desired", "current", "misscheduled", "ready", "available", "updated"),
        0,
    )
    next_available: datetime | None = None
    for name in node_names:
        pods = by_node.get(name, [])
        if not placement[name][0]:
            counts["misscheduled"] += 1 if pods else 0
            continue
        counts["desired"] += 1
        if not pods:
            continue
        counts["current"] += 1
        pod = sorted(pods, key=creation_order)[0]
        if is_ready(pod):
            counts["ready"] += 1
            when = available_at(pod, min_ready)
            if when is not None and when <= now:
                counts["available"] += 1
            elif when is not None and (next_available is None or when < next_available):
                next_available = when
        if is_updated(pod, revision_hash):
            counts["updated"] += 1
    status: dict[str, Any] = {
        "currentNumberScheduled": counts["current"],
        "numberMisscheduled": counts["misscheduled"],
        "desiredNumberScheduled": counts["desired"],
        "numberReady": counts["ready"],
        "observedGeneration": get_path(daemonset, "metadata", "generation") or 0,
        "updatedNumberScheduled": counts["updated"],
        "numberAvailable": counts["available"],
        "numberUnavailable": counts["desired"] - counts["available"],
    }
    status = {k: v for k, v in status.items() if v or k in ALWAYS_SHOWN}
    return status, next_available


def merged_status(current: Any, computed: dict[str, Any]) -> dict[str, Any]:
    """The computed counters with the fields this controller does not own kept from `current`."""
    kept = {k: v for k, v in current.items() if k in KEPT} if isinstance(current, dict) else {}
    return {**kept, **computed}
