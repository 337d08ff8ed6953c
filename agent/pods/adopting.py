"""Adoption: after an agent restart, take over what the runtime already runs for a pod.

Sandboxes and containers are found by label (pod uid and our node name), never by name.
Per container name, the one with the highest restart count is current and the one below
it is kept as previous (for `logs --previous`); older ones are removed, as are containers
the pod's spec no longer names. A sandbox whose infra process is not running (the host
rebooted) is removed; the pod then starts afresh, its restart counts carried on.
Nothing is restarted here: `refresh` looks at what was adopted, and a running container
keeps running with its id and start time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.pods.labels import LABEL_NODE
from agent.pods.records import Termination
from agent.runtime.errors import NotFoundError
from agent.runtime.interface import LABEL_POD_UID, ContainerState, ContainerSummary, Sandbox

if TYPE_CHECKING:
    from agent.pods.working import PodWorker


def _newest(sandboxes: list[Sandbox]) -> Sandbox | None:
    """The sandbox to keep: a running one first, then the newest."""
    if not sandboxes:
        return None
    return max(sandboxes, key=lambda s: (s.ready, s.created_at.timestamp() if s.created_at else 0.0))


async def adopt(worker: PodWorker) -> None:
    runtime = worker.ctx.runtime
    wanted = {LABEL_POD_UID: worker.uid, LABEL_NODE: worker.ctx.node_name}
    sandboxes = await runtime.list_pod_sandboxes(wanted)
    containers = await runtime.list_containers(wanted)
    keep = _newest(sandboxes)
    for other in sandboxes:
        if keep is None or other.id != keep.id:
            await runtime.remove_pod_sandbox(other.id)
    if keep is not None:
        try:
            keep = await runtime.inspect_pod_sandbox(keep.id)
        except NotFoundError:
            keep = None
    mine = [c for c in containers if keep is not None and c.sandbox_id == keep.id]
    if keep is not None and not keep.ready:
        worker.log.info("the pod's sandbox is not running (host restarted?); starting the pod afresh")
        _carry_counts(worker, mine)
        await runtime.remove_pod_sandbox(keep.id)
        return
    worker.sandbox = keep
    if keep is None:
        return
    if worker.started_at is None:
        worker.started_at = keep.created_at
    records = {(r.init, r.name): r for r in worker.init + worker.app}
    known_names = {name for _, name in records}
    by_name: dict[str, list[ContainerSummary]] = {}
    for c in mine:
        by_name.setdefault(c.container_name, []).append(c)
    for name, found in by_name.items():
        found.sort(key=lambda c: c.restart_count)
        if name not in known_names:
            for c in found:
                await runtime.remove_container(c.id)
            continue
        record = records.get((True, name)) or records[(False, name)]
        current = found[-1]
        previous = found[-2] if len(found) > 1 else None
        for old in found[:-2]:
            await runtime.remove_container(old.id)
        record.current = current.id
        record.created = current.restart_count + 1
        record.previous = previous.id if previous is not None else None
        if previous is not None and previous.state is ContainerState.EXITED:
            try:
                record.last_termination = Termination.of(await runtime.inspect_container(previous.id))
            except NotFoundError:
                record.previous = None
    adopted = sum(1 for r in worker.init + worker.app if r.current is not None)
    if adopted:
        worker.log.info("adopted the pod's containers", sandbox=keep.id[:12], containers=adopted)


def _carry_counts(worker: PodWorker, containers: list[ContainerSummary]) -> None:
    """Restart counts survive a new sandbox: the next container of each name counts on."""
    for record in worker.init + worker.app:
        counts = [c.restart_count for c in containers if c.container_name == record.name]
        if counts:
            record.created = max(counts) + 1
