"""The `kubectl get pods` columns: READY, STATUS and RESTARTS, and the wide ones.

STATUS is kubectl's one-word summary, decided in this order: the phase, or the pod's
own `status.reason`; then the first init container that has not finished
(`Init:0/2`, `Init:CrashLoopBackOff`); then, once initialised, the app container
(scanned from the last to the first, so the first container's state wins) that is
waiting or terminated (`CrashLoopBackOff`, `Completed`, `Error`); and `Terminating`
over everything while a deletion is under way. Sidecars (init containers with
`restartPolicy: Always`) count towards READY like app containers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from edgekube.resources.kinds.workload_causes import as_int, dicts, mapping, text
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import human_duration

NONE = "<none>"
# The reason the node lifecycle controller gives pods on a node that stopped answering.
NODE_LOST = "NodeLost"


@dataclass
class _Tally:
    """What the walk over the container statuses adds up."""

    reason: str
    ready: int = 0
    restarts: int = 0
    last_restart: datetime | None = None

    def restarted(self, status: dict[str, Any]) -> None:
        self.restarts += as_int(status.get("restartCount")) or 0
        finished = _time(get_path(status, "lastState", "terminated", "finishedAt"))
        if finished is not None and (self.last_restart is None or finished > self.last_restart):
            self.last_restart = finished


def pod_cells(pod: Obj, now: datetime) -> tuple[str, str, str]:
    """READY ("1/2"), STATUS and RESTARTS ("3 (5m ago)") of `pod`."""
    spec = mapping(pod.get("spec"))
    status = mapping(pod.get("status"))
    phase = text(status.get("phase"))
    tally = _Tally(reason=text(status.get("reason")) or phase)
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for _, c in dicts(status.get("conditions"))
    ):
        tally.reason = "SchedulingGated"
    init_specs = {text(c.get("name")): c for _, c in dicts(spec.get("initContainers"))}
    sidecars = {name for name, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total = len(dicts(spec.get("containers"))) + len(sidecars)
    initializing = _walk_init(status, len(init_specs), sidecars, tally)
    if not initializing or _condition_true(status, "Initialized"):
        _walk_app(status, sidecars, tally)
    if get_path(pod, "metadata", "deletionTimestamp"):
        if text(status.get("reason")) == NODE_LOST:
            tally.reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            tally.reason = "Terminating"
    restarts = str(tally.restarts)
    if tally.restarts and tally.last_restart is not None:
        ago = human_duration(int((now - tally.last_restart).total_seconds()))
        restarts = f"{tally.restarts} ({ago} ago)"
    return f"{tally.ready}/{total}", tally.reason, restarts


def _walk_init(status: dict[str, Any], count: int, sidecars: set[str], tally: _Tally) -> bool:
    """Account for init containers; True while the pod is still initialising."""
    for i, container in dicts(status.get("initContainerStatuses")):
        tally.restarted(container)
        state = mapping(container.get("state"))
        terminated = state.get("terminated") if isinstance(state.get("terminated"), dict) else None
        waiting = state.get("waiting") if isinstance(state.get("waiting"), dict) else None
        if terminated is not None and terminated.get("exitCode") == 0:
            continue
        if text(container.get("name")) in sidecars and container.get("started") is True:
            if container.get("ready") is True:
                tally.ready += 1
            continue
        if terminated is not None:
            tally.reason = "Init:" + _terminated_reason(terminated)
        elif waiting is not None and text(waiting.get("reason")) not in ("", "PodInitializing"):
            tally.reason = "Init:" + text(waiting.get("reason"))
        else:
            tally.reason = f"Init:{i}/{count}"
        return True
    return False


def _walk_app(status: dict[str, Any], sidecars: set[str], tally: _Tally) -> None:
    # Restarts of finished init containers no longer matter once the app runs, but a
    # sidecar keeps restarting alongside it, so those are counted again from scratch.
    tally.restarts, tally.last_restart = 0, None
    for _, container in dicts(status.get("initContainerStatuses")):
        if text(container.get("name")) in sidecars:
            tally.restarted(container)
    running = False
    for _, container in reversed(dicts(status.get("containerStatuses"))):
        tally.restarted(container)
        state = mapping(container.get("state"))
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if isinstance(waiting, dict) and text(waiting.get("reason")):
            tally.reason = text(waiting.get("reason"))
        elif isinstance(terminated, dict):
            tally.reason = _terminated_reason(terminated)
        elif container.get("ready") is True and isinstance(state.get("running"), dict):
            running = True
            tally.ready += 1
    # A pod whose other containers finished but one still runs is not "Completed".
    if tally.reason == "Completed" and running:
        tally.reason = "Running" if _condition_true(status, "Ready") else "NotReady"


def _terminated_reason(terminated: dict[str, Any]) -> str:
    reason = text(terminated.get("reason"))
    if reason:
        return reason
    signal = as_int(terminated.get("signal")) or 0
    if signal:
        return f"Signal:{signal}"
    return f"ExitCode:{as_int(terminated.get('exitCode')) or 0}"


def _condition_true(status: dict[str, Any], kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for _, c in dicts(status.get("conditions")))


def wide_pod_cells(pod: Obj) -> tuple[str, str, str, str]:
    """IP, NODE, NOMINATED NODE and READINESS GATES of `pod`."""
    ip = text(get_path(pod, "status", "podIPs", 0, "ip")) or text(get_path(pod, "status", "podIP"))
    node = text(get_path(pod, "spec", "nodeName"))
    nominated = text(get_path(pod, "status", "nominatedNodeName"))
    gates = [text(g.get("conditionType")) for _, g in dicts(get_path(pod, "spec", "readinessGates"))]
    gate_cell = NONE
    if gates:
        conditions = get_path(pod, "status", "conditions")
        passed = sum(
            1
            for gate in gates
            if any(c.get("type") == gate and c.get("status") == "True" for _, c in dicts(conditions))
        )
        gate_cell = f"{passed}/{len(gates)}"
    return ip or NONE, node or NONE, nominated or NONE, gate_cell


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # The API writes UTC; a stamp without a zone is read as UTC so it compares with `now`.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
