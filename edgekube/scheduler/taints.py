"""Taints on nodes, tolerations on pods, and the taints a node's conditions imply.

A toleration tolerates a taint when its effect is empty or equal, its key is empty or
equal, and either its operator is `Exists` or (`Equal`, the default) its value equals
the taint's. An empty key with `Exists` tolerates everything.

Kubernetes' node lifecycle controller turns bad node conditions into `NoSchedule` taints
(`node.kubernetes.io/not-ready` for Ready=False, `.../unreachable` for Ready=Unknown, and
so on) and the kubelet registers a new node with `not-ready`. The scheduler only looks at
taints. We derive the same taints from the conditions here, so a node that is not Ready is
never chosen even before (or without) a controller writing them, and the FailedScheduling
message reads exactly as in Kubernetes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"

# (condition type, status) -> the NoSchedule taint Kubernetes sets for it.
_CONDITION_TAINTS = {
    ("Ready", "False"): NOT_READY,
    ("Ready", "Unknown"): UNREACHABLE,
    ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
}


class Taint(NamedTuple):
    key: str
    value: str
    effect: str


class Toleration(NamedTuple):
    key: str
    operator: str  # "Equal" or "Exists"
    value: str
    effect: str  # "" tolerates every effect


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    return toleration.operator in ("", "Equal") and toleration.value == taint.value


def tolerated(tolerations: Sequence[Toleration], taint: Taint) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def first_untolerated(taints: Iterable[Taint], tolerations: Sequence[Toleration]) -> Taint | None:
    for taint in taints:
        if not tolerated(tolerations, taint):
            return taint
    return None


def tolerations_of(spec: Any) -> tuple[Toleration, ...]:
    found = spec.get("tolerations") if isinstance(spec, dict) else None
    return tuple(
        Toleration(str(t.get("key") or ""), str(t.get("operator") or "Equal"), str(t.get("value") or ""),
                   str(t.get("effect") or ""))
        for t in found or ()
        if isinstance(t, dict)
    )


def node_taints(node: Any) -> tuple[tuple[Taint, ...], tuple[Taint, ...]]:
    """(NoSchedule and NoExecute taints, PreferNoSchedule taints), conditions' taints included."""
    spec = node.get("spec") if isinstance(node, dict) else None
    taints = [
        Taint(str(t.get("key") or ""), str(t.get("value") or ""), str(t.get("effect") or ""))
        for t in (spec.get("taints") if isinstance(spec, dict) else None) or ()
        if isinstance(t, dict)
    ]
    present = {(t.key, t.effect) for t in taints}
    for key in implied_taint_keys(node):
        if (key, NO_SCHEDULE) not in present:
            taints.append(Taint(key, "", NO_SCHEDULE))
    hard = tuple(t for t in taints if t.effect in (NO_SCHEDULE, NO_EXECUTE))
    soft = tuple(t for t in taints if t.effect == PREFER_NO_SCHEDULE)
    return hard, soft


def implied_taint_keys(node: Any) -> list[str]:
    """The condition taints of `node`; a node with no Ready condition counts as not ready."""
    status = node.get("status") if isinstance(node, dict) else None
    conditions = status.get("conditions") if isinstance(status, dict) else None
    keys: list[str] = []
    ready_seen = False
    for condition in conditions or ():
        if not isinstance(condition, dict):
            continue
        kind, state = condition.get("type"), condition.get("status")
        ready_seen = ready_seen or kind == "Ready"
        key = _CONDITION_TAINTS.get((str(kind), str(state)))
        if key is not None:
            keys.append(key)
    if not ready_seen:
        keys.insert(0, NOT_READY)
    return keys
