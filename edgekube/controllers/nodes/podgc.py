"""Pod garbage collection: force-deletes pods that no node will ever finish.

A pod bound to a node is deleted gracefully: it keeps its `deletionTimestamp` until that
node's agent has stopped it. When no agent will, the pod must go by force (grace 0):
  - its node no longer exists (Kubernetes' `gcOrphaned`). The node cache may lag behind
    a node that was just created, so an absence is confirmed with a read of the store,
    and, as in Kubernetes, a node must stay absent for a quarantine (here
    `node_monitor_grace_period`, 40 s by default) before its pods go: a pod may be bound
    to a node whose agent is about to register it;
  - it is Terminating on a node tainted `node.kubernetes.io/out-of-service` that is not
    Ready (Kubernetes' non-graceful node shutdown, set by an operator);
  - it is Terminating on a node that has been unreachable for longer than the pod's
    `deletionGracePeriodSeconds` plus `node_monitor_grace_period` (counted from the
    unreachable NoExecute taint's `timeAdded`), and the grace period itself has run out.
    This one is ours, not Kubernetes': there a pod evicted from a dead node stays
    Terminating until the node is deleted, which at the edge (a device unplugged in a
    field) may be never. The agent, once back, finds its pod gone and stops it; the
    workload's replacement exists since the eviction, so nothing runs twice that would
    not already have.
Keys are pods. A requeue lands on the moment the last rule fires.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory, object_key, split_key
from edgekube.controllers.nodes.health import ready_status
from edgekube.controllers.nodes.indexes import NODE_INDEX, index_pods
from edgekube.controllers.nodes.taints import NO_EXECUTE, OUT_OF_SERVICE, UNREACHABLE, taints_of
from edgekube.controllers.nodes.timing import after, seconds_until
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller, Requeue
from edgekube.errors import Conflict, NotFound
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import Clock, parse_time, utc_now
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


def force_delete_time(pod: Obj, node: Obj, grace_period: float, now: datetime) -> datetime | None:
    """When a Terminating `pod` on an existing `node` is to be force-deleted; None: leave it to the agent.

    Worked example: unreachable since 12:00:00, pod deleted at 12:05:00 with 30 s grace,
    node_monitor_grace_period 40 s -> max(12:00:00 + 30 s + 40 s, 12:05:00 + 30 s) = 12:05:30.
    """
    deleted = parse_time(get_path(pod, "metadata", "deletionTimestamp"))
    if deleted is None:
        return None
    taints = taints_of(node)
    if any(t.get("key") == OUT_OF_SERVICE for t in taints) and ready_status(node) != "True":
        return now
    unreachable = next((t for t in taints if t.get("key") == UNREACHABLE and t.get("effect") == NO_EXECUTE), None)
    since = parse_time(unreachable.get("timeAdded")) if unreachable else None
    if since is None:
        return None
    grace = get_path(pod, "metadata", "deletionGracePeriodSeconds")
    seconds = float(grace) if isinstance(grace, int | float) and not isinstance(grace, bool) else 0.0
    return max(after(since, seconds + grace_period), after(deleted, seconds))


class PodGCController(Controller):
    name = "pod-garbage-collector"

    def __init__(
        self,
        *,
        factory: InformerFactory,
        service: ResourceService,
        recorder: EventRecorder,
        settings: ControllerSettings,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__()
        self.service = service
        self.settings = settings
        self.clock = clock
        self._absent_since: dict[str, datetime] = {}
        self.nodes = factory.informer("", "v1", "Node")
        self.pods = factory.informer("", "v1", "Pod")
        index_pods(self.pods)
        self.pods.add_handlers(Handlers(on_add=self._on_pod, on_update=lambda _old, new: self._on_pod(new)))
        self.nodes.add_handlers(
            Handlers(on_update=lambda _old, new: self._on_node(new, deleting_only=True), on_delete=self._on_node)
        )

    def _on_pod(self, pod: Obj) -> None:
        node = get_path(pod, "spec", "nodeName")
        if node and (get_path(pod, "metadata", "deletionTimestamp") or self.nodes.get(str(node)) is None):
            self.enqueue(object_key(pod))

    def _on_node(self, node: Obj, *, deleting_only: bool = False) -> None:
        for pod in self.pods.by_index(NODE_INDEX, object_key(node)):
            if not deleting_only or get_path(pod, "metadata", "deletionTimestamp"):
                self.enqueue(object_key(pod))

    async def sync(self, key: str) -> None:
        pod = self.pods.get(key)
        node_name = get_path(pod, "spec", "nodeName")
        if pod is None or not node_name:
            return
        node = self.nodes.get(str(node_name))
        if node is None:
            if await self._node_exists(str(node_name)):
                self._absent_since.pop(str(node_name), None)
                return  # the cache has not caught up with a new node; its add event brings us back
            now = self.clock()
            since = self._absent_since.setdefault(str(node_name), now)
            release = after(since, self.settings.node_monitor_grace_period)
            if release > now:
                raise Requeue(seconds_until(release, now))
            await self._force_delete(key, pod, "its node no longer exists")
            return
        self._absent_since.pop(str(node_name), None)
        now = self.clock()
        deadline = force_delete_time(pod, node, self.settings.node_monitor_grace_period, now)
        if deadline is None:
            return
        if deadline > now:
            raise Requeue(seconds_until(deadline, now))
        await self._force_delete(key, pod, "its node has been unreachable past the pod's grace period")

    async def _node_exists(self, name: str) -> bool:
        try:
            await self.service.read(self.nodes.strategy, None, name)
        except NotFound:
            return False
        return True

    async def _force_delete(self, key: str, pod: Obj, why: str) -> None:
        namespace, name = split_key(key)
        opts = DeleteOptions(grace_period_seconds=0, precondition_uid=get_path(pod, "metadata", "uid"))
        try:
            await deleting.delete(self.service, self.pods.strategy, namespace, name, opts)
        except NotFound:
            return
        except Conflict as err:
            if err.message.startswith("Precondition failed"):
                return
            raise
        log.info("force-deleted pod", pod=key, node=get_path(pod, "spec", "nodeName"), reason=why)
