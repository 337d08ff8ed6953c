"""`Fleet`: N simulated nodes in one process, and the switches tests flip on them.

The fleet registers its nodes, then runs, from `run()` alone:

- `lease_writers` heartbeat workers over one `DelayQueue` of node names (`heartbeating`);
- one pod watch for every bound pod (`spec.nodeName!=`), filtered here to our nodes, whose
  handler only queues keys, and `status_writers` pod workers (`running`);
- one node watch (our label) to learn pod CIDRs and notice nodes deleted by others.

Two watches serve the whole fleet however many nodes it has, and every write goes
through a bounded pool of workers, so 1,000 nodes and 10,000 pods cost one process a
steady trickle of requests rather than bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any

import structlog

from edgekube.client import (
    LEASES,
    NODE_LEASE_NAMESPACE,
    NODES,
    PODS,
    ApiClient,
    Config,
    ListWatcher,
    NotFound,
)
from edgekube.simulating.heartbeating import heartbeating, schedule_first_renewals, write_node_status
from edgekube.simulating.nodes import SIMULATED_LABEL, SimNode, node_name
from edgekube.simulating.queueing import DelayQueue
from edgekube.simulating.registering import register_nodes
from edgekube.simulating.running import PodState, pod_working
from edgekube.simulating.settings import Settings
from edgekube.simulating.stats import Stats

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


class Fleet:
    """Simulated nodes against one server: `async with Fleet(client, settings) as fleet: ...`."""

    def __init__(self, client: ApiClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.stats = Stats()
        count, first = settings.nodes.count, settings.nodes.first_index
        self.nodes: dict[str, SimNode] = {}
        for i in range(count):
            name = node_name(settings.nodes.name_prefix, first + i)
            self.nodes[name] = SimNode(name, first + i, ready=i < count - settings.nodes.unready)
        self._heartbeats = DelayQueue()
        self._pod_state = PodState(
            client=client,
            pods=ListWatcher(client, PODS, field_selector="spec.nodeName!=", on_event=self._on_pod),
            nodes=self.nodes,
            settings=settings.pods,
            queue=DelayQueue(),
            stats=self.stats,
        )
        self._node_watch = ListWatcher(client, NODES, label_selector=f"{SIMULATED_LABEL}=true", on_event=self._on_node)
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.nodes.values() if not n.removed]

    def node(self, name: str) -> SimNode:
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(f"{name} is not a node of this fleet") from None

    # -- running -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Register the nodes, then run every loop until cancelled."""
        await register_nodes(client=self.client, nodes=list(self.nodes.values()), settings=self.settings)
        limits = self.settings.limits
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._pod_state.pods.run(), name="sim-pod-watch")
                tasks.create_task(self._node_watch.run(), name="sim-node-watch")
                for i in range(limits.status_writers):
                    tasks.create_task(pod_working(state=self._pod_state), name=f"sim-pods-{i}")
                for i in range(limits.lease_writers):
                    tasks.create_task(
                        heartbeating(
                            client=self.client,
                            queue=self._heartbeats,
                            nodes=self.nodes,
                            settings=self.settings,
                            stats=self.stats,
                        ),
                        name=f"sim-heartbeat-{i}",
                    )
                await self._pod_state.pods.wait_synced()
                await self._node_watch.wait_synced()
                schedule_first_renewals(
                    self._heartbeats, list(self.nodes.values()), self.settings.heartbeat.lease_interval
                )
                self._ready.set()
                log.info("fleet running", nodes=len(self.nodes), bound_pods=len(self._pod_state.pods))
        finally:
            self._heartbeats.close()
            self._pod_state.queue.close()

    async def start(self) -> None:
        """Run the fleet in a task; return once the nodes are registered and the watches synced."""
        self._task = asyncio.create_task(self.run(), name="sim-fleet")
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            await asyncio.gather(ready, return_exceptions=True)
            await self._task  # raises what stopped it
            raise RuntimeError("the fleet stopped before it was ready")

    async def wait(self) -> None:
        """Wait for the fleet to end: only by `stop()` or an error (which is raised here)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- switches for tests ------------------------------------------------------------------

    def stop_heartbeat(self, name: str) -> None:
        """The node stops renewing its Lease (as a device that lost power or network would)."""
        self.node(name).heartbeat = False

    def resume_heartbeat(self, name: str) -> None:
        """The node renews its Lease again, starting now."""
        self.node(name).heartbeat = True
        self._heartbeats.add(name)

    async def set_ready(self, name: str, ready: bool) -> None:
        """Report Ready=True or False now, and keep reporting it."""
        node = self.node(name)
        node.ready = ready
        await write_node_status(client=self.client, node=node, stats=self.stats)

    async def remove_node(self, name: str, *, delete: bool = True) -> None:
        """Stop simulating the node; with `delete`, delete its Node and Lease too."""
        node = self.node(name)
        node.removed = True
        self._heartbeats.forget(name)
        for key, record in list(self._pod_state.records.items()):
            if record.node == name:
                self._pod_state.forget(key)
        if delete:
            for resource, namespace in ((NODES, None), (LEASES, NODE_LEASE_NAMESPACE)):
                with contextlib.suppress(NotFound):
                    await self.client.delete(resource, name, namespace)

    # -- watch handlers (no work: record and queue) --------------------------------------------

    def _on_pod(self, kind: str, pod: Obj) -> None:
        self._pod_state.on_event(kind, pod)

    def _on_node(self, kind: str, obj: Obj) -> None:
        node = self.nodes.get(str(obj.get("metadata", {}).get("name", "")))
        if node is None or node.removed:
            return
        if kind == "DELETED":
            node.removed = True
            log.warning("node deleted by someone else; no longer simulated", node=node.name)
            return
        node.pod_cidr = str(obj.get("spec", {}).get("podCIDR") or "")
        node.uid = str(obj.get("metadata", {}).get("uid") or node.uid)


async def reporting(*, fleet: Fleet, interval: float) -> None:
    """Log what the fleet wrote every `interval` seconds, with rates."""
    loop = asyncio.get_running_loop()
    before, since = fleet.stats.as_dict(), loop.time()
    while True:
        await asyncio.sleep(interval)
        now, after = loop.time(), fleet.stats.as_dict()
        rates = {f"{k}_per_s": round((after[k] - before[k]) / (now - since), 1) for k in after}
        log.info("fleet", nodes=len(fleet.names), **after, **rates)
        before, since = after, now


async def simulate(config: Config, settings: Settings, *, report_interval: float = 30.0) -> None:
    """Run a fleet until cancelled (what `edgekube simulate` does)."""
    async with ApiClient(
        config,
        timeout=settings.limits.request_timeout,
        connections=settings.limits.connections,
        user_agent="edgekube-simulate",
    ) as client:
        async with Fleet(client, settings) as fleet:
            report = asyncio.create_task(reporting(fleet=fleet, interval=report_interval), name="sim-report")
            try:
                await fleet.wait()
            finally:
                report.cancel()
                await asyncio.gather(report, return_exceptions=True)
