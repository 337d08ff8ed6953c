"""A resource service that serves EndpointSlices (whether or not the default registry does yet),
and the controller harness on it (see `garbage/harness.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgekube.resources.kinds import endpointslices
from edgekube.resources.registry import Registry, default_registry
from edgekube.service.bootstrap import ensure_defaults
from edgekube.service.resources import ResourceService
from tests.unit.controllers.garbage.harness import Harness
from tests.unit.store.conftest import open_store


def registry_with_slices() -> Registry:
    strategies = list(default_registry())
    if not any(s.kind.store_key == endpointslices.KIND.store_key for s in strategies):
        strategies.append(endpointslices.STRATEGY)
    return Registry(strategies)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ResourceService]:
    store = await open_store(tmp_path / "state.db")
    registry = registry_with_slices()
    svc = ResourceService(store, registry, None)
    await ensure_defaults(svc, registry)
    yield svc
    await store.close()


@pytest.fixture
def harness(service: ResourceService) -> Harness:
    return Harness(service)
