"""A resource service on a fresh store (system namespaces made) with the Service allocator and its informer."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgekube.resources.kinds.services import STRATEGY
from edgekube.resources.objects import Obj
from edgekube.resources.registry import default_registry
from edgekube.service.allocating import ServiceAllocator
from edgekube.service.bootstrap import ensure_defaults
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService
from edgekube.store.store import Store
from tests.unit.store.conftest import open_store

NODE_PORTS = (30000, 32767)
CIDR = "10.43.0.0/16"


@dataclass
class FakeClock:
    """Lease time that tests move by hand instead of sleeping."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Cluster:
    store: Store
    service: ResourceService
    allocator: ServiceAllocator
    clock: FakeClock
    task: asyncio.Task[None]

    async def create(self, name: str, namespace: str = "default", **spec: Any) -> Obj:
        return await self.service.create(STRATEGY, namespace, svc(name, **spec), WriteOptions())

    async def caught_up(self) -> None:
        """Wait until the informer has applied every write so far."""
        await eventually(lambda: self.allocator.revision >= self.store.revision)


def svc(name: str, **spec: Any) -> Obj:
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def start(
    store: Store, clock: FakeClock, seed: int = 7, cidr: str = CIDR, node_ports: tuple[int, int] = NODE_PORTS
) -> Cluster:
    service = ResourceService(store, default_registry(), None)
    allocator = ServiceAllocator(store, cidr, node_ports, clock=clock, rng=random.Random(seed))
    service.admission.append(allocator)
    task = asyncio.create_task(allocator.run(), name="service-allocator")
    await eventually(lambda: allocator.synced)
    await ensure_defaults(service, service.registry)
    return Cluster(store, service, allocator, clock, task)


async def stop(cluster: Cluster) -> None:
    cluster.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cluster.task


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "state.db")
    yield store
    await store.close()


@pytest.fixture
async def cluster(db: Store) -> AsyncIterator[Cluster]:
    running = await start(db, FakeClock())
    yield running
    await stop(running)
