"""An in-process resource service on a fresh store, for controller tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgekube.resources.registry import default_registry
from edgekube.service.bootstrap import ensure_defaults
from edgekube.service.resources import ResourceService
from tests.unit.store.conftest import open_store


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ResourceService]:
    store = await open_store(tmp_path / "state.db")
    registry = default_registry()
    svc = ResourceService(store, registry, None)
    await ensure_defaults(svc, registry)
    yield svc
    await store.close()
