"""Taints and tolerations: the well-known keys, matching, and when a pod must leave a node.

Matching follows Kubernetes' `Toleration.ToleratesTaint`: an empty toleration effect
matches every effect, an empty key (with `Exists`) every key; `Equal` (or no operator)
compares values. For each taint only the first toleration that matches counts, as in
`GetMatchingTolerations`, so its `tolerationSeconds` decides how long the pod may stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from edgekube.controllers.nodes.timing import after
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import parse_time

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"

Taint = dict[str, Any]
Toleration = dict[str, Any]


def taints_of(node: Obj | None, effect: str | None = None) -> list[Taint]:
    """The node's taints (well-formed ones only), optionally of one effect."""
    found = get_path(node, "spec", "taints")
    if not isinstance(found, list):
        return []
    return [t for t in found if isinstance(t, dict) and (effect is None or t.get("effect") == effect)]


def tolerations_of(pod_spec: Any) -> list[Toleration]:
    found = pod_spec.get("tolerations") if isinstance(pod_spec, dict) else None
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def same_taint(a: Taint, b: Taint) -> bool:
    """Taints are unique on a node by key and effect."""
    return bool(a.get("key") == b.get("key") and a.get("effect") == b.get("effect"))


def has_taint(taints: Iterable[Taint], key: str, effect: str) -> bool:
    return any(t.get("key") == key and t.get("effect") == effect for t in taints)


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def first_toleration(tolerations: Iterable[Toleration], taint: Taint) -> Toleration | None:
    return next((t for t in tolerations if tolerates(t, taint)), None)


def untolerated(taints: Iterable[Taint], tolerations: list[Toleration], effects: Iterable[str]) -> list[Taint]:
    """The taints of the given effects that no toleration matches."""
    wanted = set(effects)
    return [t for t in taints if t.get("effect") in wanted and first_toleration(tolerations, t) is None]


def eviction_time(
    taints: Iterable[Taint],
    tolerations: list[Toleration],
    now: datetime,
    *,
    added: dict[tuple[str, str], datetime] | None = None,
) -> datetime | None:
    """When a pod must leave a node with these NoExecute `taints`; None: it may stay for good.

    Each taint allows the pod to stay for the `tolerationSeconds` of the first toleration
    that matches it, counted from the taint's `timeAdded` (or, for a taint without one,
    from `added[(key, effect)]`, when the caller first saw it; failing both, from now).
    An untolerated taint, or `tolerationSeconds` <= 0, means now. The earliest taint wins.

    Worked example: unreachable added 12:00:00, tolerated for 300 s; not-ready (none here);
    a user taint `dedicated=db:NoExecute` tolerated without seconds -> 12:05:00.
    """
    soonest: datetime | None = None
    for taint in taints:
        if taint.get("effect") != NO_EXECUTE:
            continue
        toleration = first_toleration(tolerations, taint)
        if toleration is None:
            return now
        seconds = toleration.get("tolerationSeconds")
        if seconds is None or isinstance(seconds, bool) or not isinstance(seconds, int | float):
            continue  # tolerated for as long as the taint stays
        if seconds <= 0:
            return now
        since = parse_time(taint.get("timeAdded"))
        if since is None and added is not None:
            since = added.get((str(taint.get("key") or ""), NO_EXECUTE))
        deadline = after(since or now, float(seconds))
        if soonest is None or deadline < soonest:
            soonest = deadline
    return soonest
