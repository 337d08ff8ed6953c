r"""Pod statuses a kubelet would write, built from the pod and the moment; no I/O here.

The stages a simulated pod goes through:

    Pending --start_delay--> Running (not ready) --ready_delay--> Running, Ready
                         \--> CrashLoopBackOff (Running, not ready), or Failed with restartPolicy Never
    Running --exit-after--> Succeeded   (restartPolicy Never/OnFailure and the annotation)

Each builder returns the whole `status` (minus qosClass, which the server keeps), written
with a merge patch, so a write never depends on the previous one having been seen.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.simulating.clocks import parse_duration, rfc3339

Obj = dict[str, Any]

EXIT_AFTER = "simulate.edgekube.io/exit-after"
"""Annotation: a pod with restartPolicy Never or OnFailure completes this long after starting."""
FAIL = "simulate.edgekube.io/fail"
"""Annotation: "true" makes the pod's containers crash whatever the fail rate."""
CRASH_MESSAGE = "back-off 10s restarting failed container"


@dataclass(frozen=True)
class Placement:
    """Where the pod runs: its own address and its node's."""

    pod_ip: str
    host_ip: str
    started_at: datetime
    scheduled_at: str = ""


def exit_after(pod: Obj) -> float | None:
    """Seconds after start at which the pod completes, or None (runs until deleted)."""
    if (pod.get("spec") or {}).get("restartPolicy") not in ("Never", "OnFailure"):
        return None
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(EXIT_AFTER)
    if not text:
        return None
    try:
        return max(0.0, parse_duration(str(text)))
    except ValueError:
        return None


def should_fail(pod: Obj, rate: float) -> bool:
    """Whether the pod's containers crash: the annotation, else a stable draw from its uid."""
    meta = pod.get("metadata") or {}
    if str((meta.get("annotations") or {}).get(FAIL, "")).lower() == "true":
        return True
    if rate <= 0:
        return False
    draw = zlib.crc32(str(meta.get("uid", meta.get("name", ""))).encode()) % 10_000
    return draw < rate * 10_000


def _containers(pod: Obj, key: str = "containers") -> list[Obj]:
    return [c for c in (pod.get("spec") or {}).get(key) or [] if isinstance(c, dict)]


def _container_id(pod: Obj, name: str) -> str:
    uid = str((pod.get("metadata") or {}).get("uid", ""))
    return "simulated://" + hashlib.sha256(f"{uid}/{name}".encode()).hexdigest()[:32]


def _image_id(image: str) -> str:
    return f"{image}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _condition(kind: str, ok: bool, at: str, reason: str = "") -> Obj:
    out: Obj = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None, "lastTransitionTime": at}
    if reason and not ok:
        out["reason"] = reason
    return out


def _conditions(
    pod: Obj, place: Placement, *, ready: bool, reason: str = "ContainersNotReady", at: datetime | None = None
) -> list[Obj]:
    """The pod's conditions; readiness changes at `at` (default: the start)."""
    start = rfc3339(place.started_at)
    changed = rfc3339(at) if at is not None else start
    old = {c.get("type"): c for c in (pod.get("status") or {}).get("conditions") or [] if isinstance(c, dict)}
    scheduled = (old.get("PodScheduled") or {}).get("lastTransitionTime") or place.scheduled_at or start
    out = [
        _condition("PodReadyToStartContainers", True, start),
        _condition("Initialized", True, start),
        _condition("ContainersReady", ready, changed, reason),
        _condition("Ready", ready, changed, reason),
        _condition("PodScheduled", True, scheduled),
    ]
    # A condition that keeps its status keeps its transition time.
    for cond in out:
        previous = old.get(cond["type"])
        if previous and previous.get("status") == cond["status"] and previous.get("lastTransitionTime"):
            cond["lastTransitionTime"] = previous["lastTransitionTime"]
    return out


def _base(pod: Obj, place: Placement, phase: str) -> Obj:
    host_network = bool((pod.get("spec") or {}).get("hostNetwork"))
    ip = place.host_ip if host_network else place.pod_ip
    status: Obj = {
        "phase": phase,
        "hostIP": place.host_ip,
        "hostIPs": [{"ip": place.host_ip}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": rfc3339(place.started_at),
    }
    inits = _containers(pod, "initContainers")
    if inits:
        status["initContainerStatuses"] = [
            _status_of(pod, c, ready=True, state={"terminated": _terminated(place, 0, "Completed", pod, c)})
            for c in inits
        ]
    return status


def _status_of(pod: Obj, container: Obj, *, ready: bool, state: Obj, restarts: int = 0, last: Obj | None = None) -> Obj:
    name = str(container.get("name", ""))
    image = str(container.get("image", ""))
    return {
        "name": name,
        "image": image,
        "imageID": _image_id(image),
        "containerID": _container_id(pod, name),
        "ready": ready,
        "started": "running" in state,
        "restartCount": restarts,
        "state": state,
        "lastState": last or {},
    }


def _terminated(place: Placement, code: int, reason: str, pod: Obj, container: Obj, at: str = "") -> Obj:
    return {
        "exitCode": code,
        "reason": reason,
        "startedAt": rfc3339(place.started_at),
        "finishedAt": at or rfc3339(place.started_at),
        "containerID": _container_id(pod, str(container.get("name", ""))),
    }


def running_status(pod: Obj, place: Placement, *, ready: bool, at: datetime | None = None) -> Obj:
    """Phase Running, every container running since `started_at`; ready (since `at`) or not yet."""
    status = _base(pod, place, "Running")
    running = {"running": {"startedAt": rfc3339(place.started_at)}}
    status["containerStatuses"] = [_status_of(pod, c, ready=ready, state=running) for c in _containers(pod)]
    status["conditions"] = _conditions(pod, place, ready=ready, at=at)
    return status


def crashing_status(pod: Obj, place: Placement, at: datetime) -> Obj:
    """Containers that exited with an error: CrashLoopBackOff, or Failed when they may not restart."""
    never = (pod.get("spec") or {}).get("restartPolicy") == "Never"
    status = _base(pod, place, "Failed" if never else "Running")
    ended = rfc3339(at)
    statuses = []
    for c in _containers(pod):
        crashed = _terminated(place, 1, "Error", pod, c, ended)
        if never:
            statuses.append(_status_of(pod, c, ready=False, state={"terminated": crashed}))
        else:
            waiting = {"waiting": {"reason": "CrashLoopBackOff", "message": CRASH_MESSAGE}}
            statuses.append(_status_of(pod, c, ready=False, state=waiting, restarts=1, last={"terminated": crashed}))
    status["containerStatuses"] = statuses
    status["conditions"] = _conditions(pod, place, ready=False, at=at)
    return status


def succeeded_status(pod: Obj, place: Placement, at: datetime) -> Obj:
    """Every container exited 0: phase Succeeded."""
    status = _base(pod, place, "Succeeded")
    ended = rfc3339(at)
    status["containerStatuses"] = [
        _status_of(pod, c, ready=False, state={"terminated": _terminated(place, 0, "Completed", pod, c, ended)})
        for c in _containers(pod)
    ]
    status["conditions"] = _conditions(pod, place, ready=False, reason="PodCompleted", at=at)
    return status
