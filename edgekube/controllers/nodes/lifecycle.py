"""The node lifecycle controller: notices nodes whose agent went quiet, and taints nodes by condition.

Node and Lease events, and a tick every `node_monitor_period`, put node names on the queue.
`sync(name)` then, in this order:
  1. observes: a lease `renewTime` or Ready `lastHeartbeatTime` it has not seen before
     resets the node's probe time, read from the controller's own clock. Agents' clocks
     are never compared with ours (a Raspberry Pi without a real-time clock may be years
     off until NTP answers); Kubernetes judges leases the same way. A node seen for the
     first time (also after a server restart) gets a full grace period;
  2. a probe older than `node_monitor_grace_period` -> the agent's conditions become
     Unknown (status write) and the node gets a `NodeNotReady` event;
  3. Ready=Unknown -> every pod on the node that says Ready=True is set Ready=False, so
     Services stop sending traffic to a node nobody can reach;
  4. taints follow conditions (`health.reconcile_taints`); a NoExecute taint the node has
     no form of yet waits for its zone's rate limit (`disruption`), and requeues for
     exactly as long as that takes.
Eviction by those taints is `evicting`'s job; pods of vanished nodes are `podgc`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import math
from dataclasses import dataclass
from datetime import datetime

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory, object_key
from edgekube.controllers.nodes.disruption import (
    DisruptionSettings,
    Tally,
    TokenBucket,
    all_fully_disrupted,
    count_zones,
    taint_rate,
    zone_of,
    zone_states,
)
from edgekube.controllers.nodes.health import (
    NO_EXECUTE_KEYS,
    READY,
    condition,
    mark_unknown,
    needs_new_no_execute,
    ready_status,
    reconcile_taints,
)
from edgekube.controllers.nodes.indexes import NODE_INDEX, index_pods
from edgekube.controllers.nodes.taints import NO_EXECUTE, taints_of
from edgekube.controllers.nodes.timing import after
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller, Requeue
from edgekube.errors import NotFound
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import Clock, format_time, utc_now
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

NODE_LEASE_NAMESPACE = "kube-node-lease"


@dataclass(frozen=True)
class Health:
    """When this controller last saw the node alive, and the signs it saw then."""

    probe: datetime
    renew: str | None
    heartbeat: str | None


def observe(previous: Health | None, renew: str | None, heartbeat: str | None, now: datetime) -> Health:
    """A new renewTime or heartbeat (any change: agents' clocks may go backwards) means alive now."""
    if previous is None:
        return Health(now, renew, heartbeat)
    renewed = renew is not None and renew != previous.renew
    beat = heartbeat is not None and heartbeat != previous.heartbeat
    if not renewed and not beat:
        return previous
    return Health(now, renew if renew is not None else previous.renew, heartbeat or previous.heartbeat)


@dataclass(frozen=True)
class NoExecutePolicy:
    add: bool = False  # a brand-new NoExecute taint may be added now
    suppress: bool = False  # every zone is down: remove ours, add none
    wait: float | None = None  # seconds until the rate limit allows the add


class NodeLifecycleController(Controller):
    name = "node-lifecycle"

    def __init__(
        self,
        *,
        factory: InformerFactory,
        service: ResourceService,
        recorder: EventRecorder,
        settings: ControllerSettings,
        clock: Clock = utc_now,
        disruption: DisruptionSettings | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.recorder = recorder
        self.settings = settings
        self.clock = clock
        self.disruption = disruption or DisruptionSettings()
        self.nodes = factory.informer("", "v1", "Node")
        self.leases = factory.informer("coordination.k8s.io", "v1", "Lease")
        self.pods = factory.informer("", "v1", "Pod")
        index_pods(self.pods)
        self._health: dict[str, Health] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._all_down = False
        self._tally: Tally | None = None  # readiness per zone as the cache has it; None: count again
        self.nodes.add_handlers(
            Handlers(on_add=self._on_node, on_update=self._on_node_updated, on_delete=self._on_node)
        )
        self.leases.add_handlers(Handlers(on_add=self._on_lease, on_update=lambda _old, new: self._on_lease(new)))

    # -- events ---------------------------------------------------------------------------

    def _on_node(self, node: Obj) -> None:
        self._tally = None
        self.enqueue(object_key(node))

    def _on_node_updated(self, old: Obj, new: Obj) -> None:
        if ready_status(old) != ready_status(new) or zone_of(old) != zone_of(new):
            self._tally = None
        self.enqueue(object_key(new))

    def _on_lease(self, lease: Obj) -> None:
        if get_path(lease, "metadata", "namespace") == NODE_LEASE_NAMESPACE:
            self.enqueue(str(get_path(lease, "metadata", "name")))

    async def run(self) -> None:
        ticker = asyncio.create_task(self._tick(), name=f"{self.name}-tick")
        try:
            await super().run()
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    async def _tick(self) -> None:
        """Leases that stop changing send no events: look at every node each period."""
        while True:
            await asyncio.sleep(self.settings.node_monitor_period)
            for key in self.nodes.keys():
                self.enqueue(key)

    # -- sync -----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None:
            self._health.pop(key, None)
            return
        now = self.clock()
        health = self._observe(key, node, now)
        if now > after(health.probe, self.settings.node_monitor_grace_period):
            node = await self._mark_unknown(key, node, now)
        if ready_status(node) == "Unknown":
            await self._mark_pods_not_ready(key, now)
        wait = await self._reconcile_taints(key, node, now)
        if wait is not None:
            raise Requeue(wait)

    def _observe(self, name: str, node: Obj, now: datetime) -> Health:
        lease = self.leases.get(f"{NODE_LEASE_NAMESPACE}/{name}")
        renew = get_path(lease, "spec", "renewTime")
        ready = condition(node, READY)
        heartbeat = ready.get("lastHeartbeatTime") if ready else None
        health = observe(
            self._health.get(name),
            renew if isinstance(renew, str) else None,
            heartbeat if isinstance(heartbeat, str) else None,
            now,
        )
        self._health[name] = health
        return health

    async def _mark_unknown(self, name: str, node: Obj, now: datetime) -> Obj:
        if not mark_unknown(copy.deepcopy(node), now):
            return node  # already Unknown: nothing to write
        was_ready = ready_status(node) == "True"

        async def mutate(current: Obj) -> Obj:
            mark_unknown(current, now)
            return current

        # Pinned to the version judged stale: if the agent wrote meanwhile, that is a sign of
        # life, and the 409 brings us back to judge again (as Kubernetes' UpdateStatus does).
        written = await self.service.guaranteed_update(
            self.nodes.strategy, None, name, mutate, WriteOptions(), subresource="status", precondition=_version(node)
        )
        # Our own write is no sign of life: remember the heartbeat it carries as seen.
        heartbeat = get_path(condition(written, READY), "lastHeartbeatTime")
        if isinstance(heartbeat, str):
            self._health[name] = Health(self._health[name].probe, self._health[name].renew, heartbeat)
        log.info("node stopped reporting; status is now Unknown", node=name)
        if was_ready:
            self.recorder.normal(written, "NodeNotReady", f"Node {name} status is now: NodeNotReady")
        return written

    async def _mark_pods_not_ready(self, name: str, now: datetime) -> None:
        pods = sorted(self.pods.by_index(NODE_INDEX, name), key=object_key)
        for pod in pods:
            if get_path(pod, "spec", "nodeName") != name or get_path(pod, "status", "phase") in ("Succeeded", "Failed"):
                continue
            if get_path(_pod_ready(pod), "status") != "True":
                continue

            async def mutate(current: Obj) -> Obj:
                found = _pod_ready(current)
                if found is not None and found.get("status") == "True":
                    found.update(status="False", lastTransitionTime=format_time(now))
                return current

            ns, pod_name = get_path(pod, "metadata", "namespace"), get_path(pod, "metadata", "name")
            try:
                written = await self.service.guaranteed_update(
                    self.pods.strategy,
                    ns,
                    pod_name,
                    mutate,
                    WriteOptions(),
                    subresource="status",
                    precondition=_version(pod),
                )
            except NotFound:
                continue  # gone meanwhile
            self.recorder.warning(written, "NodeNotReady", "Node is not ready")

    async def _reconcile_taints(self, name: str, node: Obj, now: datetime) -> float | None:
        policy = self._no_execute_policy(node, now)
        wanted = reconcile_taints(node, now, add_no_execute=policy.add, suppress_no_execute=policy.suppress)
        if wanted == taints_of(node):
            return policy.wait

        async def mutate(current: Obj) -> Obj:
            taints = reconcile_taints(current, now, add_no_execute=policy.add, suppress_no_execute=policy.suppress)
            spec = current.setdefault("spec", {})
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)
            return current

        await self.service.guaranteed_update(self.nodes.strategy, None, name, mutate, WriteOptions())
        return policy.wait

    def _no_execute_policy(self, node: Obj, now: datetime) -> NoExecutePolicy:
        ours = [t for t in taints_of(node, NO_EXECUTE) if t.get("key") in NO_EXECUTE_KEYS]
        if ready_status(node) == "True" and not ours:
            return NoExecutePolicy()  # nothing to add or lift: spare the zone count
        zones = zone_states(self._zones_with(node), self.disruption.unhealthy_zone_threshold)
        all_down = all_fully_disrupted(zones)
        if all_down != self._all_down:
            self._all_down = all_down
            if all_down:
                log.warning("no node is Ready: assuming the control plane is cut off; NoExecute taints lifted")
            else:
                log.info("a node is Ready again: NoExecute tainting resumes")
        if all_down:
            return NoExecutePolicy(suppress=True)
        if not needs_new_no_execute(node):
            return NoExecutePolicy()
        zone = zone_of(node)
        bucket = self._buckets.setdefault(zone, TokenBucket())
        wait = bucket.take(taint_rate(zones[zone], self.disruption), now)
        if wait == 0:
            return NoExecutePolicy(add=True)
        # A zone that may taint nothing waits for the tick (its state may change any time).
        return NoExecutePolicy(wait=None if math.isinf(wait) else wait)

    def _zones_with(self, node: Obj) -> Tally:
        """Readiness per zone from the cache, with `node` as just written instead of as cached.

        Counted once and again only after a node's readiness or zone changed, so a tick
        over a thousand nodes costs a thousand lookups, not a million.
        """
        if self._tally is None:
            self._tally = count_zones(self.nodes.list(), _is_ready)
        counts = {zone: list(pair) for zone, pair in self._tally.items()}
        cached = self.nodes.get(object_key(node))
        if cached is not None:
            counts[zone_of(cached)][0 if _is_ready(cached) else 1] -= 1
        counts.setdefault(zone_of(node), [0, 0])[0 if _is_ready(node) else 1] += 1
        return counts


def _version(obj: Obj) -> int | None:
    found = get_path(obj, "metadata", "resourceVersion")
    return int(found) if isinstance(found, str) and found.isdigit() else None


def _is_ready(node: Obj) -> bool:
    return ready_status(node) == "True"


def _pod_ready(pod: Obj) -> dict[str, object] | None:
    found = get_path(pod, "status", "conditions")
    if not isinstance(found, list):
        return None
    return next((c for c in found if isinstance(c, dict) and c.get("type") == "Ready"), None)
