"""Volume tests: a real server, real files and mounts under the test's tmp dir, real Podman.

`manager` is a VolumeManager rooted in the test's tmp dir for a node of the test's own;
after the test every pod directory it left is cleaned up and no mount may remain.
`pods` runs busybox containers through the runtime contract harness, which removes them.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.runtime.podman import PodmanRuntime, PodmanSettings
from agent.runtime.podman_service import PodmanService
from agent.volumes import VolumeManager, VolumeSettings
from agent.volumes.mounting import mount_points
from edgekube.client import ApiClient, Config
from tests.e2e.runtime.harness import Harness
from tests.support.servers import ServerProcess

_counter = itertools.count(1)


@pytest.fixture
async def api(shared_server: ServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(Config.from_kubeconfig(shared_server.kubeconfig), timeout=10) as client:
        yield client


@pytest.fixture
async def manager(api: ApiClient, tmp_path: Path) -> AsyncIterator[VolumeManager]:
    """A VolumeManager for a node of this test's own, rooted at tmp/data/agent."""
    node = f"vol-{secrets.token_hex(3)}"
    # No cache: a test's refresh right after an update must read it.
    manager = VolumeManager(api, tmp_path / "data" / "agent", node, settings=VolumeSettings(object_cache_seconds=0))
    try:
        yield manager
    finally:
        for uid in await manager.pods_on_disk():
            await manager.cleanup(uid)
        assert mount_points(tmp_path) == [], "a test left mounts behind"


@pytest.fixture
async def pods(
    podman_service: PodmanService, busybox_image: str, test_run_label: tuple[str, str]
) -> AsyncIterator[Harness]:
    """Busybox sandboxes and containers on real Podman, removed after the test."""
    key, run_id = test_run_label
    run_label = {key: f"{run_id}-vol-{next(_counter)}"}
    settings = PodmanSettings(socket_path=podman_service.settings.socket_path)
    harness = Harness("podman", PodmanRuntime(settings), busybox_image, run_label, lambda: PodmanRuntime(settings))
    try:
        yield harness
    finally:
        await harness.cleanup()
