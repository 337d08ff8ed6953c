"""What a node's conditions say, and the taints the node lifecycle controller derives from them.

Two rules, both Kubernetes':
  - a node whose agent has gone quiet for the grace period gets its Ready, MemoryPressure,
    DiskPressure and PIDPressure conditions set to `Unknown` (NetworkUnavailable is the
    control plane's, never touched);
  - taints follow conditions (`TaintNodesByCondition`): Ready=False -> not-ready,
    Ready=Unknown -> unreachable (NoSchedule, and NoExecute for eviction), a pressure or
    network condition -> its NoSchedule taint, `spec.unschedulable` -> unschedulable.

The controller only ever adds or removes the taints it manages; any other taint (a user's,
or `out-of-service`) is left where it is, in its place. A managed taint that is still
wanted keeps its `timeAdded`, since eviction deadlines count from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgekube.controllers.nodes.taints import (
    DISK_PRESSURE,
    MEMORY_PRESSURE,
    NETWORK_UNAVAILABLE,
    NO_EXECUTE,
    NO_SCHEDULE,
    NOT_READY,
    PID_PRESSURE,
    UNREACHABLE,
    UNSCHEDULABLE,
    Taint,
    has_taint,
    taints_of,
)
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import format_time

READY = "Ready"
# The conditions the agent reports and the controller declares Unknown when it goes quiet.
AGENT_CONDITIONS = (READY, "MemoryPressure", "DiskPressure", "PIDPressure")
UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
NEVER_REASON = "NodeStatusNeverUpdated"
NEVER_MESSAGE = "Kubelet never posted node status."

# (condition type, status) -> the key of the NoSchedule taint it brings.
CONDITION_TAINTS: dict[tuple[str, str], str] = {
    (READY, "False"): NOT_READY,
    (READY, "Unknown"): UNREACHABLE,
    ("MemoryPressure", "True"): MEMORY_PRESSURE,
    ("DiskPressure", "True"): DISK_PRESSURE,
    ("PIDPressure", "True"): PID_PRESSURE,
    ("NetworkUnavailable", "True"): NETWORK_UNAVAILABLE,
}
NO_SCHEDULE_KEYS = frozenset([*CONDITION_TAINTS.values(), UNSCHEDULABLE])
NO_EXECUTE_KEYS = frozenset([NOT_READY, UNREACHABLE])


def conditions_of(node: Obj | None) -> list[dict[str, Any]]:
    found = get_path(node, "status", "conditions")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def condition(node: Obj | None, kind: str) -> dict[str, Any] | None:
    return next((c for c in conditions_of(node) if c.get("type") == kind), None)


def ready_status(node: Obj | None) -> str | None:
    """The Ready status: True, False or Unknown; None when the node never reported one."""
    found = condition(node, READY)
    return None if found is None else str(found.get("status") or "Unknown")


def mark_unknown(node: Obj, now: datetime) -> bool:
    """Set the agent's conditions to Unknown, in place; False when they already were.

    A condition the agent never reported is added as Unknown with `NodeStatusNeverUpdated`
    and the node's creation time as its heartbeat, as Kubernetes does.
    """
    status = node.setdefault("status", {})
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        conditions = status["conditions"] = []
    stamp = format_time(now)
    changed = False
    for kind in AGENT_CONDITIONS:
        found = next((c for c in conditions if isinstance(c, dict) and c.get("type") == kind), None)
        if found is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "reason": NEVER_REASON,
                    "message": NEVER_MESSAGE,
                    "lastHeartbeatTime": get_path(node, "metadata", "creationTimestamp"),
                    "lastTransitionTime": stamp,
                }
            )
            changed = True
        elif found.get("status") != "Unknown":
            found.update(status="Unknown", reason=UNKNOWN_REASON, message=UNKNOWN_MESSAGE, lastTransitionTime=stamp)
            changed = True
    return changed


def no_schedule_keys(node: Obj) -> list[str]:
    """The NoSchedule taints the node's conditions and `spec.unschedulable` call for."""
    keys: list[str] = []
    for c in conditions_of(node):
        key = CONDITION_TAINTS.get((str(c.get("type")), str(c.get("status"))))
        if key is not None and key not in keys:
            keys.append(key)
    if get_path(node, "spec", "unschedulable") is True:
        keys.append(UNSCHEDULABLE)
    return keys


def no_execute_key(node: Obj) -> str | None:
    """not-ready for Ready=False, unreachable for Ready=Unknown, else none."""
    return {"False": NOT_READY, "Unknown": UNREACHABLE}.get(ready_status(node) or "")


def _opposite(key: str) -> str:
    return UNREACHABLE if key == NOT_READY else NOT_READY


def needs_new_no_execute(node: Obj) -> bool:
    """Whether the node needs a NoExecute taint it has no form of yet (the rate-limited case).

    Swapping not-ready for unreachable (or back) is not new: Kubernetes does it at once.
    """
    key = no_execute_key(node)
    if key is None:
        return False
    existing = taints_of(node, NO_EXECUTE)
    return not has_taint(existing, key, NO_EXECUTE) and not has_taint(existing, _opposite(key), NO_EXECUTE)


def _managed(taint: Taint) -> bool:
    key, effect = taint.get("key"), taint.get("effect")
    return (effect == NO_SCHEDULE and key in NO_SCHEDULE_KEYS) or (effect == NO_EXECUTE and key in NO_EXECUTE_KEYS)


def reconcile_taints(node: Obj, now: datetime, *, add_no_execute: bool, suppress_no_execute: bool) -> list[Taint]:
    """The node's taints as they should be.

    `add_no_execute`: a NoExecute taint the node has no form of may be added (the zone's
    rate limit allows it). `suppress_no_execute`: the whole cluster looks down, so no
    NoExecute taint of ours should stay (Kubernetes' "master disruption mode").
    """
    want_schedule = no_schedule_keys(node)
    want_execute = None if suppress_no_execute else no_execute_key(node)
    existing = taints_of(node)
    kept: list[Taint] = []
    for taint in existing:
        if not _managed(taint):
            kept.append(taint)
        elif taint.get("effect") == NO_SCHEDULE and taint.get("key") in want_schedule:
            kept.append(taint)
        elif taint.get("effect") == NO_EXECUTE and taint.get("key") == want_execute:
            kept.append(taint)
    stamp = format_time(now)
    for key in want_schedule:
        if not has_taint(kept, key, NO_SCHEDULE):
            kept.append({"key": key, "effect": NO_SCHEDULE, "timeAdded": stamp})
    if want_execute is not None and not has_taint(kept, want_execute, NO_EXECUTE):
        swapping = has_taint(existing, _opposite(want_execute), NO_EXECUTE)
        if swapping or add_no_execute:
            kept.append({"key": want_execute, "effect": NO_EXECUTE, "timeAdded": stamp})
    return kept
