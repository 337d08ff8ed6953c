"""The pod status a kubelet would write, rendered from the worker's records. Pure; no I/O.

Phase follows the kubelet's rules (pkg/kubelet/kubelet_pods.go getPhase):

    init containers not done           -> Pending (Failed if one failed and restartPolicy Never)
    any app container waiting, never run -> Pending
    some running                       -> Running
    all stopped: Always                -> Running (they are being restarted)
                 all exited 0          -> Succeeded
                 Never                 -> Failed
                 OnFailure             -> Running (the failed ones are being restarted)

A terminal phase never goes back. Conditions keep their lastTransitionTime while their
status stays the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.pods.records import CONTAINER_ID_PREFIX, ContainerRecord, Mode, Termination
from edgekube.nodeinfo import rfc3339

Obj = dict[str, Any]

TERMINAL = ("Succeeded", "Failed")
OWN_FIELDS = (
    "phase",
    "conditions",
    "hostIP",
    "hostIPs",
    "podIP",
    "podIPs",
    "startTime",
    "initContainerStatuses",
    "containerStatuses",
    "message",
    "reason",
)
"""The status fields the agent owns; the rest (qosClass, nominatedNodeName, ...) belongs to others."""


@dataclass(frozen=True)
class PodView:
    """Everything the status of one pod is made of."""

    pod: Obj
    init: Sequence[ContainerRecord]
    app: Sequence[ContainerRecord]
    host_ip: str
    pod_ip: str
    sandbox_ready: bool
    started_at: datetime
    now: datetime
    message: str = ""
    reason: str = ""


def _time(at: datetime | None) -> str | None:
    return rfc3339(at) if at is not None else None


def _terminated(t: Termination) -> Obj:
    out: Obj = {
        "exitCode": t.exit_code,
        "reason": t.reason,
        "startedAt": _time(t.started_at),
        "finishedAt": _time(t.finished_at),
    }
    if t.container_id:
        out["containerID"] = CONTAINER_ID_PREFIX + t.container_id
    if t.message:
        out["message"] = t.message
    return out


def container_state(record: ContainerRecord) -> tuple[Obj, Obj]:
    """(state, lastState) of one container."""
    if record.mode is Mode.RUNNING:
        return {"running": {"startedAt": _time(record.running_since)}}, _last(record.last_termination)
    if record.mode is Mode.TERMINATED and record.exit is not None:
        return {"terminated": _terminated(record.exit)}, _last(record.last_termination)
    waiting: Obj = {"reason": record.waiting_reason or "ContainerCreating"}
    if record.waiting_message:
        waiting["message"] = record.waiting_message
    return {"waiting": waiting}, _last(record.exit or record.last_termination)


def _last(t: Termination | None) -> Obj:
    return {"terminated": _terminated(t)} if t is not None else {}


def container_status(record: ContainerRecord) -> Obj:
    state, last = container_state(record)
    running = record.mode is Mode.RUNNING
    out: Obj = {
        "name": record.name,
        "image": record.image,
        "imageID": record.image_id,
        "ready": record.succeeded if record.init else (running and record.ready),
        "started": running and record.started,
        "restartCount": record.restart_count,
        "state": state,
        "lastState": last,
    }
    if record.current is not None:
        out["containerID"] = CONTAINER_ID_PREFIX + record.current
    return out


def init_done(init: Sequence[ContainerRecord]) -> bool:
    return all(r.succeeded for r in init)


def init_failed(init: Sequence[ContainerRecord]) -> bool:
    """An init container ended with an error and will not be retried (restartPolicy Never)."""
    return any(r.mode is Mode.TERMINATED and r.exit is not None and r.exit.exit_code != 0 for r in init)


def pod_phase(
    restart_policy: str, init: Sequence[ContainerRecord], app: Sequence[ContainerRecord], previous: str
) -> str:
    if previous in TERMINAL:
        return previous
    if init_failed(init):
        return "Failed"
    if not init_done(init):
        return "Pending"
    running = stopped = succeeded = waiting = 0
    for r in app:
        if r.mode is Mode.RUNNING:
            running += 1
        elif r.mode is Mode.TERMINATED:
            stopped += 1
            succeeded += 1 if r.exit is not None and r.exit.exit_code == 0 else 0
        elif r.exit is not None or r.last_termination is not None:
            stopped += 1  # backing off after a crash: it has run
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if not stopped:
        return "Pending"
    if restart_policy == "Always":
        return "Running"
    if stopped == succeeded and all(r.mode is Mode.TERMINATED for r in app):
        return "Succeeded"
    if restart_policy == "Never":
        return "Failed"
    return "Running"


def _condition(kind: str, ok: bool, reason: str = "", message: str = "") -> Obj:
    out: Obj = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _names(records: Sequence[ContainerRecord], keep: Any) -> str:
    return "[" + " ".join(r.name for r in records if keep(r)) + "]"


def pod_conditions(view: PodView, phase: str, previous: Sequence[Obj]) -> list[Obj]:
    """PodReadyToStartContainers, Initialized, Ready, ContainersReady, then the others' (PodScheduled ...)."""
    terminal = phase in TERMINAL
    initialized = init_done(view.init) or (phase in TERMINAL and not init_failed(view.init))
    ready = not terminal and initialized and all(r.mode is Mode.RUNNING and r.ready for r in view.app)
    if initialized:
        init_cond = _condition("Initialized", True)
    else:
        message = "containers with incomplete status: " + _names(view.init, lambda r: not r.succeeded)
        init_cond = _condition("Initialized", False, "ContainersNotInitialized", message)
    if ready:
        ready_conds = [_condition("Ready", True), _condition("ContainersReady", True)]
    elif terminal:
        ready_conds = [_condition(k, False, "PodCompleted") for k in ("Ready", "ContainersReady")]
    else:
        message = "containers with unready status: " + _names(
            view.app, lambda r: not (r.mode is Mode.RUNNING and r.ready)
        )
        ready_conds = [_condition(k, False, "ContainersNotReady", message) for k in ("Ready", "ContainersReady")]
    ours = [_condition("PodReadyToStartContainers", view.sandbox_ready and not terminal), init_cond, *ready_conds]
    own_types = {c["type"] for c in ours}
    others = [dict(c) for c in previous if isinstance(c, dict) and c.get("type") not in own_types]
    if not any(c.get("type") == "PodScheduled" for c in others):
        others.append(_condition("PodScheduled", True))
    before = {c.get("type"): c for c in previous if isinstance(c, dict)}
    stamp = rfc3339(view.now)
    for cond in ours + others:
        old = before.get(cond["type"])
        if old is not None and old.get("status") == cond["status"] and old.get("lastTransitionTime"):
            cond["lastTransitionTime"] = old["lastTransitionTime"]
        elif not cond.get("lastTransitionTime"):
            cond["lastTransitionTime"] = rfc3339(view.started_at) if cond["type"] == "PodScheduled" else stamp
    return ours + others


def pod_status(view: PodView) -> Obj:
    """The agent's part of the pod's status (see OWN_FIELDS); None values mean "remove"."""
    spec = view.pod.get("spec") or {}
    old = view.pod.get("status") or {}
    phase = pod_phase(str(spec.get("restartPolicy") or "Always"), view.init, view.app, str(old.get("phase") or ""))
    status: Obj = {
        "phase": phase,
        "conditions": pod_conditions(view, phase, old.get("conditions") or []),
        "hostIP": view.host_ip,
        "hostIPs": [{"ip": view.host_ip}],
        "podIP": view.pod_ip or None,
        "podIPs": [{"ip": view.pod_ip}] if view.pod_ip else None,
        "startTime": old.get("startTime") or rfc3339(view.started_at),
        "initContainerStatuses": [container_status(r) for r in view.init] if view.init else None,
        "containerStatuses": [container_status(r) for r in view.app],
        "message": view.message or None,
        "reason": view.reason or None,
    }
    return status


def own_part(status: Obj) -> Obj:
    """The agent-owned fields of a status, without empty ones: what "changed" compares."""
    return {k: status[k] for k in OWN_FIELDS if status.get(k) not in (None, "", [])}


def final_phase(app: Sequence[ContainerRecord], previous: str) -> str:
    """The phase of a pod whose containers were stopped for its deletion: Succeeded only if all exited 0."""
    if previous in TERMINAL:
        return previous
    return "Succeeded" if app and all(r.succeeded for r in app) else "Failed"
