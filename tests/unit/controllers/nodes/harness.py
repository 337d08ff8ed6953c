"""Test bench for the node and DaemonSet controllers: a fake clock, snapshot caches, the write log.

`prime()` runs the informers the controllers registered until they have listed the store
as it is now, then stops them, so a sync sees exactly what the test wrote before and not
what it writes itself. `writes()` reads the store's log since the last `prime()`, in
commit order, as (type, resource, key) tuples. Events go to `events` instead of the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import InformerFactory, object_key
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller, Requeue
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService

Write = tuple[str, str, str]


class FakeClock:
    """Wall-clock time the test moves by hand; starts at the real time (stored times use it)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def stamp(self, offset: float = 0.0) -> str:
        return (self.now + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def micro(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventLog(EventRecorder):
    """Keeps events in a list: (reason, involved object key, message)."""

    def __init__(self, service: ResourceService) -> None:
        super().__init__(service, "test")
        self.seen: list[tuple[str, str, str]] = []

    def record(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        self.seen.append((reason, object_key(obj), message))


@dataclass
class Bench:
    service: ResourceService
    clock: FakeClock = field(default_factory=FakeClock)
    settings: ControllerSettings = field(default_factory=ControllerSettings)

    def __post_init__(self) -> None:
        self.factory = InformerFactory(self.service)
        self.events = EventLog(self.service)
        self.mark = 0

    def build(self, cls: Callable[..., Controller], **extra: Any) -> Any:
        return cls(
            factory=self.factory,
            service=self.service,
            recorder=self.events,
            settings=self.settings,
            clock=self.clock,
            **extra,
        )

    def kind(self, group: str, kind: str) -> Strategy:
        found = self.service.registry.by_kind(group, "v1", kind)
        assert found is not None, kind
        return found

    # -- caches and the log ---------------------------------------------------------------

    async def prime(self) -> None:
        """Fill every informer's cache with the store as it is now, then freeze it."""
        target = self.service.store.revision
        tasks = [asyncio.create_task(i.run()) for i in self.factory.all()]
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while not all(i.synced.is_set() and i.revision >= target for i in self.factory.all()):
                assert loop.time() < deadline, "informers did not catch up"
                await asyncio.sleep(0.005)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        for informer in self.factory.all():
            informer.synced.clear()
        self.mark = self.service.store.revision
        self.events.seen.clear()

    async def writes(self) -> list[Write]:
        """Every write since the last `prime()`, in commit order."""
        stream = self.service.store.watch(None, None, self.mark)
        found: list[Write] = []
        try:
            while (event := await stream.next(0.02)) is not None:
                key = f"{event.key.namespace}/{event.key.name}" if event.key.namespace else event.key.name
                found.append((event.type.name, event.key.resource, key))
        finally:
            stream.close()
        return [w for w in found if w[1] != "core/events"]

    async def sync(self, controller: Controller, key: str) -> float | None:
        """One sync; the requeue delay it asked for, if any."""
        try:
            await controller.sync(key)
        except Requeue as again:
            return again.delay
        return None

    # -- objects --------------------------------------------------------------------------

    async def get(self, group: str, kind: str, namespace: str | None, name: str) -> Obj | None:
        try:
            obj, _ = await self.service.read(self.kind(group, kind), namespace, name)
        except Exception as err:
            if getattr(err, "code", None) == 404:
                return None
            raise
        return obj

    async def node(
        self,
        name: str,
        *,
        labels: dict[str, str] | None = None,
        ready: str | None = "True",
        taints: list[Obj] | None = None,
        unschedulable: bool = False,
    ) -> Obj:
        spec: Obj = {}
        if taints:
            spec["taints"] = taints
        if unschedulable:
            spec["unschedulable"] = True
        body: Obj = {"metadata": {"name": name, "labels": labels or {}}, "spec": spec}
        if ready is not None:
            body["status"] = {"conditions": [self.condition("Ready", ready)]}
        return await self.service.create(self.kind("", "Node"), None, body, WriteOptions())

    def condition(self, kind: str, status: str) -> Obj:
        return {
            "type": kind,
            "status": status,
            "reason": "KubeletReady" if status == "True" else "KubeletNotReady",
            "message": "",
            "lastHeartbeatTime": self.clock.stamp(),
            "lastTransitionTime": self.clock.stamp(),
        }

    async def report(self, name: str, ready: str) -> Obj:
        """The agent posts its node's status: Ready with a fresh heartbeat."""
        strategy = self.kind("", "Node")
        node, _ = await self.service.read(strategy, None, name)
        others = [c for c in node.get("status", {}).get("conditions", []) if c.get("type") != "Ready"]
        node["status"]["conditions"] = [self.condition("Ready", ready), *others]
        return await self.service.update(strategy, None, name, node, WriteOptions(), subresource="status")

    async def set_node(self, name: str, change: Callable[[Obj], None]) -> Obj:
        strategy = self.kind("", "Node")

        async def mutate(current: Obj) -> Obj:
            change(current)
            return current

        return await self.service.guaranteed_update(strategy, None, name, mutate, WriteOptions())

    async def lease(self, name: str) -> Obj:
        """Create or renew the node's Lease with renewTime = the clock."""
        strategy = self.kind("coordination.k8s.io", "Lease")
        spec = {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": self.clock.micro()}
        existing = await self.get("coordination.k8s.io", "Lease", "kube-node-lease", name)
        if existing is None:
            body = {"metadata": {"name": name, "namespace": "kube-node-lease"}, "spec": spec}
            return await self.service.create(strategy, "kube-node-lease", body, WriteOptions())
        existing["spec"] = spec
        return await self.service.update(strategy, "kube-node-lease", name, existing, WriteOptions())

    async def pod(
        self,
        name: str,
        node: str | None = None,
        *,
        tolerations: list[Obj] | None = None,
        ready: bool = False,
        namespace: str = "default",
        grace: int | None = None,
    ) -> Obj:
        spec: Obj = {"containers": [{"name": "c", "image": "busybox"}]}
        if node:
            spec["nodeName"] = node
        if tolerations is not None:
            spec["tolerations"] = tolerations
        if grace is not None:
            spec["terminationGracePeriodSeconds"] = grace
        body = {"metadata": {"name": name}, "spec": spec}
        pod = await self.service.create(self.kind("", "Pod"), namespace, body, WriteOptions())
        return await self.pod_ready(namespace, name) if ready else pod

    async def pod_ready(self, namespace: str, name: str, phase: str = "Running") -> Obj:
        strategy = self.kind("", "Pod")
        pod, _ = await self.service.read(strategy, namespace, name)
        pod["status"]["phase"] = phase
        pod["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": self.clock.stamp()}]
        return await self.service.update(strategy, namespace, name, pod, WriteOptions(), subresource="status")

    async def delete(self, group: str, kind: str, namespace: str | None, name: str, grace: int | None = None) -> None:
        opts = DeleteOptions(grace_period_seconds=grace)
        await deleting.delete(self.service, self.kind(group, kind), namespace, name, opts)


def copy_of(obj: Obj | None) -> Obj:
    assert obj is not None
    return copy.deepcopy(obj)
