"""An in-process resource service that serves ResourceQuotas, with or without quota admission."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgekube.resources.kinds import resourcequotas
from edgekube.resources.registry import Registry, default_registry
from edgekube.service.bootstrap import ensure_defaults
from edgekube.service.options import WriteOptions
from edgekube.service.quotas import QuotaAdmission
from edgekube.service.resources import ResourceService
from tests.unit.controllers.garbage.harness import Harness, poll
from tests.unit.store.conftest import open_store


def quota_registry() -> Registry:
    registry = default_registry()
    if registry.by_kind("", "v1", "ResourceQuota") is None:  # served here even before the registry lists it
        registry = Registry([*registry, resourcequotas.STRATEGY])
    return registry


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ResourceService]:
    store = await open_store(tmp_path / "state.db")
    registry = quota_registry()
    svc = ResourceService(store, registry, None)
    await ensure_defaults(svc, registry)
    namespaces = registry.by_kind("", "v1", "Namespace")
    assert namespaces is not None
    await svc.create(namespaces, None, {"metadata": {"name": "team"}}, WriteOptions())
    yield svc
    await store.close()


@pytest.fixture
async def admission(service: ResourceService) -> AsyncIterator[QuotaAdmission]:
    """Quota admission on the service, its informer running."""
    plugin = QuotaAdmission(service.store)
    service.admission.append(plugin)
    task = asyncio.create_task(plugin.run())

    async def synced() -> bool:
        return plugin.synced

    await poll(synced, within=5.0, pause=0.005)
    yield plugin
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def harness(service: ResourceService) -> Harness:
    return Harness(service)
