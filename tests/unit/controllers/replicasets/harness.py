"""A harness for workload controller tests: preload, snapshot the caches, sync, read the writes.

`prime()` runs the informers the controllers registered until they caught up with the
store, then stops them, so a sync sees exactly what the test preloaded and none of its
own writes. `writes()` reads the store's log since the last `prime()`: every create,
update and delete, in commit order, with the object written. Events go to a list
instead of the store. The Deployment tests use this harness too.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import InformerFactory
from edgekube.controllers.recording import EventRecorder
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService
from edgekube.store.types import EventType

KINDS = {"Pod": ("", "v1"), "ReplicaSet": ("apps", "v1"), "Deployment": ("apps", "v1")}
NAMESPACE = "default"


@dataclass
class Write:
    type: str  # ADDED, MODIFIED or DELETED
    resource: str  # core/pods, apps/replicasets ...
    name: str
    obj: Obj

    @property
    def short(self) -> tuple[str, str]:
        """(type, kind's plural): enough to pin the order of writes."""
        return self.type, self.resource.split("/")[1]


class CapturingRecorder(EventRecorder):
    """Keeps (type, reason, message) of each event in `events` instead of writing it."""

    def __init__(self, service: ResourceService) -> None:
        super().__init__(service, "test")
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


@dataclass
class Harness:
    service: ResourceService
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    mark: int = 0

    def __post_init__(self) -> None:
        self.factory = InformerFactory(self.service)
        self.recorder = CapturingRecorder(self.service)

    def build(self, cls: Callable[..., Any]) -> Any:
        """A controller on this harness, whose clock reads `self.now`."""
        return cls(
            factory=self.factory,
            service=self.service,
            recorder=self.recorder,
            settings=ControllerSettings(),
            clock=lambda: self.now,
        )

    def strategy(self, kind: str) -> Strategy:
        group, version = KINDS[kind]
        found = self.service.registry.by_kind(group, version, kind)
        assert found is not None
        return found

    # -- preloading -----------------------------------------------------------------------

    async def create(self, kind: str, body: Obj, status: Obj | None = None) -> Obj:
        obj = await self.service.create(self.strategy(kind), NAMESPACE, copy.deepcopy(body), WriteOptions())
        if status is not None:
            obj = await self.set_status(kind, obj, status)
        return obj

    async def set_status(self, kind: str, obj: Obj, status: Obj) -> Obj:
        name = obj["metadata"]["name"]

        async def mutate(current: Obj) -> Obj:
            current["status"] = copy.deepcopy(status)
            return current

        return await self.service.guaranteed_update(
            self.strategy(kind), NAMESPACE, name, mutate, WriteOptions(), subresource="status"
        )

    async def update(self, kind: str, name: str, change: Callable[[Obj], None]) -> Obj:
        async def mutate(current: Obj) -> Obj:
            change(current)
            return current

        return await self.service.guaranteed_update(self.strategy(kind), NAMESPACE, name, mutate, WriteOptions())

    async def read(self, kind: str, name: str) -> Obj | None:
        item = await self.service.store.get(self.service.key(self.strategy(kind), NAMESPACE, name))
        return None if item is None else item.decode()

    async def all(self, kind: str) -> list[Obj]:
        from edgekube.service.options import ListOptions

        page = await self.service.list(self.strategy(kind), NAMESPACE, ListOptions())
        return [i.decode() for i in page.items]

    # -- caches and writes ----------------------------------------------------------------

    async def prime(self) -> None:
        """Bring every informer up to the store's current revision, then stop them."""
        target = self.service.store.revision
        tasks = [asyncio.create_task(i.run()) for i in self.factory.all()]
        try:
            async with asyncio.timeout(5):
                while True:  # polled: an informer has no event for "caught up with revision N"
                    if all(i.synced.is_set() and i.revision >= target for i in self.factory.all()):
                        break
                    await asyncio.sleep(0.005)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.mark = self.service.store.revision
        self.recorder.events.clear()

    async def writes(self) -> list[Write]:
        """Every write since the last `prime()`, in commit order (events are not in the store)."""
        rows, _ = await self.service.store.reader.events_after(None, None, self.mark, 10_000)
        return [
            Write(EventType(r.type).name, r.resource, r.name, orjson.loads(r.value))
            for r in rows
            if r.resource != "core/events"
        ]
