"""Pods on simulated nodes: start, become ready, complete or crash, and stop when deleted.

The pod watch only queues keys; `pod_working` workers call `sync_pod(key)`, which looks
at the pod (from the watch cache) and the simulator's own record of it, does the one
step that is due, and queues the key again for the next step's time. Level-triggered:
a sync after a restart, a re-list or a duplicate event finds the same answer.

The record, not the cache, says what was written: the watch echo of our own write may
arrive after the next step is due, and the record keeps that step from rewriting the
previous one.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from edgekube.client import PODS, ApiClient, ApiError, Conflict, ListWatcher, NotFound, ServerUnreachable
from edgekube.simulating import clocks
from edgekube.simulating.nodes import SimNode
from edgekube.simulating.pods import (
    Placement,
    crashing_status,
    exit_after,
    running_status,
    should_fail,
    succeeded_status,
)
from edgekube.simulating.queueing import DelayQueue
from edgekube.simulating.settings import PodSettings
from edgekube.simulating.stats import Stats

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
RETRY_DELAY = 1.0  # seconds before a failed write is tried again


def pod_key(pod: Obj) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


class Stage(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    CRASHING = "crashing"
    DONE = "done"  # Succeeded or Failed: nothing more to write


@dataclass
class PodRecord:
    """What the simulator did to one pod (by uid)."""

    uid: str
    node: str
    seen_at: float
    stage: Stage = Stage.PENDING
    started_at: datetime | None = None
    started_loop: float = 0.0
    pod_ip: str = ""
    deleting_since: float | None = None
    delete_sent: bool = False


@dataclass
class PodState:
    """Everything `sync_pod` needs, shared by the workers and the watch handler."""

    client: ApiClient
    pods: ListWatcher
    nodes: dict[str, SimNode]
    settings: PodSettings
    queue: DelayQueue
    stats: Stats
    records: dict[str, PodRecord] = field(default_factory=dict)

    def on_event(self, kind: str, pod: Obj) -> None:
        """Watch handler: queue pods of our nodes; forget deleted ones. Does no other work."""
        key = pod_key(pod)
        if kind == "DELETED":
            self.forget(key)
            return
        node = self.nodes.get(str((pod.get("spec") or {}).get("nodeName") or ""))
        if node is not None and not node.removed:
            self.queue.add(key)

    def forget(self, key: str) -> None:
        record = self.records.pop(key, None)
        self.queue.forget(key)
        if record is not None and record.pod_ip:
            node = self.nodes.get(record.node)
            if node is not None:
                node.release_ip(record.pod_ip)


async def pod_working(*, state: PodState) -> None:
    """One pod worker; runs until cancelled."""
    while True:
        key = await state.queue.get()
        try:
            await sync_pod(state, key)
        except (ApiError, ServerUnreachable) as err:
            state.stats.pod_failures += 1
            log.debug("pod write failed; retrying", pod=key, error=str(err))
            state.queue.add(key, RETRY_DELAY)
        except Exception:  # a bug with one pod must not stop the others
            log.exception("pod sync failed", pod=key)
        finally:
            state.queue.done(key)


class Step(enum.Enum):
    START = "start"
    READY = "ready"
    COMPLETE = "complete"


def next_step(pod: Obj, record: PodRecord, settings: PodSettings) -> tuple[Step, float] | None:
    """The next write this pod needs and the loop time it is due; None when there is none."""
    if record.stage is Stage.PENDING:
        return Step.START, record.seen_at + settings.start_delay
    steps: list[tuple[float, Step]] = []
    if record.stage is Stage.RUNNING:
        steps.append((record.started_loop + settings.ready_delay, Step.READY))
    lasting = exit_after(pod)
    if lasting is not None and record.stage in (Stage.RUNNING, Stage.READY):
        steps.append((record.started_loop + lasting, Step.COMPLETE))
    if not steps:
        return None
    due, step = min(steps, key=lambda s: s[0])
    return step, due


async def sync_pod(state: PodState, key: str) -> None:
    """Do every step of this pod that is due, then queue it for the next one."""
    loop = asyncio.get_running_loop()
    pod = state.pods.get(key)
    if pod is None:
        state.forget(key)
        return
    node = state.nodes.get(str(pod.get("spec", {}).get("nodeName") or ""))
    if node is None or node.removed:
        return
    record = _record(state, key, pod, node, loop.time())
    if pod["metadata"].get("deletionTimestamp"):
        await _terminate(state, key, pod, record, loop.time())
        return
    while (planned := next_step(pod, record, state.settings)) is not None:
        step, due = planned
        if due > loop.time():
            state.queue.add(key, due - loop.time())
            return
        if step is Step.START:
            await _start(state, pod, node, record, loop.time())
        elif step is Step.READY:
            await _ready(state, pod, node, record)
        else:
            await _complete(state, pod, node, record)


def _record(state: PodState, key: str, pod: Obj, node: SimNode, now: float) -> PodRecord:
    """The record of this pod; for a pod first seen, one that matches the status it already has."""
    uid = str(pod["metadata"].get("uid", ""))
    record = state.records.get(key)
    if record is not None and record.uid == uid:
        return record
    if record is not None and record.pod_ip:
        node.release_ip(record.pod_ip)  # same name, another pod: the old one's address is free
    record = PodRecord(uid=uid, node=node.name, seen_at=now)
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase in ("Succeeded", "Failed"):
        record.stage = Stage.DONE
    elif phase == "Running":
        record.stage = _stage_of(status)
        record.started_at = clocks.parse_time(str(status.get("startTime", ""))) or clocks.now()
        record.started_loop = now - (clocks.now() - record.started_at).total_seconds()
        record.pod_ip = str(status.get("podIP") or "")
        if record.pod_ip and record.pod_ip != node.ip:
            node.pool().claim(record.pod_ip)
    state.records[key] = record
    return record


def _stage_of(status: Obj) -> Stage:
    containers = status.get("containerStatuses") or []
    if any("waiting" in (c.get("state") or {}) for c in containers):
        return Stage.CRASHING
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return Stage.READY if ready else Stage.RUNNING


async def _write(state: PodState, pod: Obj, status: Obj) -> None:
    meta = pod["metadata"]
    await state.client.patch_status(PODS, meta["name"], {"status": status}, meta["namespace"])
    state.stats.pod_status_writes += 1


async def _start(state: PodState, pod: Obj, node: SimNode, record: PodRecord, now: float) -> None:
    started = clocks.now()
    hosted = bool(pod.get("spec", {}).get("hostNetwork"))
    ip = record.pod_ip or (node.ip if hosted else node.pool().allocate())
    place = Placement(pod_ip=ip, host_ip=node.ip, started_at=started)
    if should_fail(pod, state.settings.fail_rate):
        status = crashing_status(pod, place, started)
        stage = Stage.DONE if status["phase"] == "Failed" else Stage.CRASHING
    else:
        ready = state.settings.ready_delay <= 0
        status = running_status(pod, place, ready=ready)
        stage = Stage.READY if ready else Stage.RUNNING
    try:
        await _write(state, pod, status)
    except BaseException:
        if not record.pod_ip and ip != node.ip:
            node.release_ip(ip)
        raise
    record.pod_ip, record.started_at, record.started_loop, record.stage = ip, started, now, stage
    if state.records.get(pod_key(pod)) is not record and ip != node.ip:
        node.release_ip(ip)  # deleted while the write was in flight


def _placement(node: SimNode, record: PodRecord) -> Placement:
    assert record.started_at is not None
    return Placement(pod_ip=record.pod_ip or node.ip, host_ip=node.ip, started_at=record.started_at)


async def _ready(state: PodState, pod: Obj, node: SimNode, record: PodRecord) -> None:
    await _write(state, pod, running_status(pod, _placement(node, record), ready=True, at=clocks.now()))
    record.stage = Stage.READY


async def _complete(state: PodState, pod: Obj, node: SimNode, record: PodRecord) -> None:
    await _write(state, pod, succeeded_status(pod, _placement(node, record), clocks.now()))
    record.stage = Stage.DONE


async def _terminate(state: PodState, key: str, pod: Obj, record: PodRecord, now: float) -> None:
    """Stop a pod marked for deletion: after a short pause, delete it for good (grace 0, same uid)."""
    if record.delete_sent:
        return
    if record.deleting_since is None:
        record.deleting_since = now
    grace = pod["metadata"].get("deletionGracePeriodSeconds")
    pause = state.settings.terminate_delay if grace is None else min(state.settings.terminate_delay, float(grace))
    due = record.deleting_since + pause
    if now < due:
        state.queue.add(key, due - now)
        return
    meta = pod["metadata"]
    try:
        await state.client.delete(PODS, meta["name"], meta["namespace"], grace_period_seconds=0, uid=record.uid)
    except (NotFound, Conflict):
        pass  # already gone, or the name now belongs to another pod
    record.delete_sent = True
    state.stats.pod_deletes += 1
