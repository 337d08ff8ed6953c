"""The workload harness on a fresh in-process service."""

from __future__ import annotations

import pytest

from edgekube.service.resources import ResourceService
from tests.unit.controllers.replicasets.harness import Harness


@pytest.fixture
def harness(service: ResourceService) -> Harness:
    return Harness(service)
