"""An in-process cluster for rollout tests: the two controllers, a kubelet stand-in, a pod census.

There is no node agent in unit tests, so `Kubelet` plays one: it watches pods and, a
moment after each appears, writes the status a node would (Running, then Ready with a
transition time), or keeps it Running but never Ready when told so. `Census` follows
every pod event in commit order and records the fewest ready pods and the most pods
seen, which is what a rollout's maxUnavailable/maxSurge promise is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edgekube.config import ControllerSettings
from edgekube.controllers.deployments import DeploymentController
from edgekube.controllers.deployments.hashing import HASH_LABEL
from edgekube.controllers.managing import run_controllers
from edgekube.controllers.replicasets import ReplicaSetController
from edgekube.controllers.replicasets.readiness import is_deleting, is_ready
from edgekube.errors import NotFound
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service.options import ListOptions, WatchOptions, WriteOptions
from edgekube.service.resources import ResourceService
from tests.unit.controllers.replicasets.objects import running

NAMESPACE = "default"


@dataclass
class Kubelet:
    service: ResourceService
    delay: float = 0.02
    ready: bool = True  # False: pods run but never pass their readiness check
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self) -> None:
        pods = self.service.registry.by_kind("", "v1", "Pod")
        assert pods is not None
        watch = await self.service.watch(pods, None, WatchOptions())
        try:
            while True:
                event = await watch.next(None)
                if event is not None and event.type == "ADDED":
                    task = asyncio.create_task(self._start(event.decoded()))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        finally:
            watch.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _start(self, pod: Obj) -> None:
        await asyncio.sleep(self.delay)
        strategy = self.service.registry.by_kind("", "v1", "Pod")
        assert strategy is not None
        status = running(datetime.now(UTC) if self.ready else None)

        async def mutate(current: Obj) -> Obj:
            if current["metadata"]["uid"] == pod["metadata"]["uid"]:
                current["status"] = {**current.get("status", {}), **copy.deepcopy(status)}
            return current

        with contextlib.suppress(NotFound):
            await self.service.guaranteed_update(
                strategy, NAMESPACE, pod["metadata"]["name"], mutate, WriteOptions(), subresource="status"
            )


@dataclass
class Census:
    """Counts pods at every pod event; `min_ready` and `max_total` once `counting` is set."""

    service: ResourceService
    pods: dict[str, Obj] = field(default_factory=dict)
    counting: bool = False
    min_ready: int | None = None
    max_total: int = 0
    max_templates: int = 0  # distinct pod-template-hash values among the pods at once

    async def run(self) -> None:
        strategy = self.service.registry.by_kind("", "v1", "Pod")
        assert strategy is not None
        watch = await self.service.watch(strategy, NAMESPACE, WatchOptions())
        try:
            while True:
                event = await watch.next(None)
                if event is None:
                    continue
                pod = event.decoded()
                if event.type == "DELETED":
                    self.pods.pop(pod["metadata"]["name"], None)
                else:
                    self.pods[pod["metadata"]["name"]] = pod
                if self.counting:
                    self._count()
        finally:
            watch.close()

    def _count(self) -> None:
        live = [p for p in self.pods.values() if not is_deleting(p)]
        ready = sum(1 for p in live if is_ready(p))
        self.min_ready = ready if self.min_ready is None else min(self.min_ready, ready)
        self.max_total = max(self.max_total, len(self.pods))
        hashes = {(p["metadata"].get("labels") or {}).get(HASH_LABEL) for p in self.pods.values()}
        self.max_templates = max(self.max_templates, len(hashes))


@dataclass
class Cluster:
    service: ResourceService
    kubelet: Kubelet
    census: Census

    def strategy(self, kind: str) -> Strategy:
        group = "" if kind == "Pod" else "apps"
        found = self.service.registry.by_kind(group, "v1", kind)
        assert found is not None
        return found

    async def get(self, kind: str, name: str) -> Obj:
        obj, _ = await self.service.read(self.strategy(kind), NAMESPACE, name)
        return obj

    async def objects(self, kind: str) -> list[Obj]:
        page = await self.service.list(self.strategy(kind), NAMESPACE, ListOptions())
        return [i.decode() for i in page.items]

    async def events(self) -> list[Obj]:
        strategy = self.service.registry.by_kind("", "v1", "Event")
        assert strategy is not None
        page = await self.service.list(strategy, NAMESPACE, ListOptions())
        return [i.decode() for i in page.items]

    async def create(self, kind: str, body: Obj) -> Obj:
        return await self.service.create(self.strategy(kind), NAMESPACE, copy.deepcopy(body), WriteOptions())

    async def patch(self, kind: str, name: str, content_type: str, body: bytes) -> Obj:
        return await self.service.patch(self.strategy(kind), NAMESPACE, name, content_type, body, WriteOptions())

    async def until(self, check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
        """Poll `check` until it holds (the state lives in the store, which has no event to await)."""
        async with asyncio.timeout(within):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def cluster(service: ResourceService, *, ready: bool = True) -> AsyncIterator[Cluster]:
    kubelet = Kubelet(service, ready=ready)
    census = Census(service)
    tasks = [
        asyncio.create_task(kubelet.run(), name="kubelet"),
        asyncio.create_task(census.run(), name="census"),
        asyncio.create_task(
            run_controllers(
                service=service,
                settings=ControllerSettings(),
                classes=[ReplicaSetController, DeploymentController],
            ),
            name="controllers",
        ),
    ]
    try:
        yield Cluster(service, kubelet, census)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await _drain(service)
        for result in results:
            if isinstance(result, Exception):
                raise result


async def _drain(service: ResourceService) -> None:
    """Wait until the writes of cancelled callers have left the store's queue.

    The store writes in queue order, so once one more write is done, every write queued
    before it is too. Without this, closing the store finds writes whose callers were
    cancelled still queued, and fails on their already-cancelled futures.
    """
    configmaps = service.registry.by_kind("", "v1", "ConfigMap")
    assert configmaps is not None
    await service.create(configmaps, NAMESPACE, {"metadata": {"generateName": "drain-"}}, WriteOptions())
