"""A harness for controller tests: preload objects, fill the caches, run syncs, read the writes.

`prime()` runs every informer the controller registered until each has caught up with
the store, then stops them: the caches hold a snapshot, so a sync sees exactly what the
test preloaded and nothing it wrote itself. `writes()` reads the store's log since the
last `prime()`: every create, update and delete, in commit order. Shared by the
namespaces, garbage, serviceaccounts and endpoints controller tests.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import InformerFactory
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService
from edgekube.store.types import EventType

Write = tuple[str, str, str]  # (ADDED | MODIFIED | DELETED, resource, namespace/name)


@dataclass
class Harness:
    service: ResourceService
    factory: InformerFactory = field(init=False)
    mark: int = 0

    def __post_init__(self) -> None:
        self.factory = InformerFactory(self.service)

    def build(self, cls: Callable[..., Controller]) -> Any:
        recorder = EventRecorder(self.service, "test")
        return cls(factory=self.factory, service=self.service, recorder=recorder, settings=ControllerSettings())

    def strategy(self, group: str, kind: str) -> Strategy:
        found = next((s for s in self.service.registry if (s.kind.group, s.kind.kind) == (group, kind)), None)
        assert found is not None, kind
        return found

    # -- preloading -----------------------------------------------------------------------

    async def create(self, group: str, kind: str, namespace: str | None, body: Obj, status: Obj | None = None) -> Obj:
        strategy = self.strategy(group, kind)
        obj = await self.service.create(strategy, namespace, copy.deepcopy(body), WriteOptions())
        if status is not None:
            obj = await self.service.update(
                strategy,
                namespace,
                obj["metadata"]["name"],
                {**obj, "status": status},
                WriteOptions(),
                subresource="status",
            )
        return obj

    async def delete(self, group: str, kind: str, namespace: str | None, name: str, policy: str | None = None) -> None:
        opts = DeleteOptions(propagation_policy=policy)
        await deleting.delete(self.service, self.strategy(group, kind), namespace, name, opts, gc_running=True)

    async def read(self, group: str, kind: str, namespace: str | None, name: str) -> Obj | None:
        strategy = self.strategy(group, kind)
        item = await self.service.store.get(self.service.key(strategy, namespace, name))
        return None if item is None else item.decode()

    async def names(self, group: str, kind: str, namespace: str | None) -> list[str]:
        from edgekube.service.options import ListOptions

        page = await self.service.list(self.strategy(group, kind), namespace, ListOptions())
        return sorted(i.key.name for i in page.items)

    # -- caches and writes ----------------------------------------------------------------

    async def prime(self) -> None:
        """Bring every informer up to the store's current revision, then stop them all."""
        target = self.service.store.revision
        tasks = [asyncio.create_task(i.run()) for i in self.factory.all()]

        async def caught_up() -> bool:
            return all(i.synced.is_set() and i.revision >= target for i in self.factory.all())

        try:
            await poll(caught_up, within=5.0, pause=0.005)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.mark = self.service.store.revision

    async def writes(self) -> list[Write]:
        """Every write since the last `prime()`, in commit order."""
        rows, _ = await self.service.store.reader.events_after(None, None, self.mark, 10_000)
        out = []
        for row in rows:
            where = f"{row.namespace}/{row.name}" if row.namespace else row.name
            out.append((EventType(row.type).name, row.resource, where))
        return out

    async def run_until(
        self, controller: Controller, done: Callable[[], Awaitable[bool]], within: float = 10.0
    ) -> None:
        """Run the informers, then (once they have listed) the controller, until `await done()`."""
        tasks = [asyncio.create_task(i.run()) for i in self.factory.all()]
        try:
            # As the controller manager does: no controller acts on a half-filled cache.
            await asyncio.wait_for(self.factory.wait_synced(), 5.0)
            tasks.append(asyncio.create_task(controller.run()))
            await poll(done, within=within, pause=0.02)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def poll(check: Callable[[], Awaitable[bool]], *, within: float, pause: float) -> None:
    """Wait until `await check()` is true; fail after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if await check():
            return
        assert loop.time() < deadline, f"condition not reached within {within}s"
        await asyncio.sleep(pause)
