"""The node controllers' bench, for DaemonSet tests."""

from __future__ import annotations

import pytest

from edgekube.service.resources import ResourceService
from tests.unit.controllers.nodes.harness import Bench


@pytest.fixture
def bench(service: ResourceService) -> Bench:
    return Bench(service)
