"""A controller harness on the in-process resource service, for the load balancer controller."""

from __future__ import annotations

import pytest

from edgekube.service.resources import ResourceService
from tests.unit.controllers.garbage.harness import Harness


@pytest.fixture
def harness(service: ResourceService) -> Harness:
    return Harness(service)
