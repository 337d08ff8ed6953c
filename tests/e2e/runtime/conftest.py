"""The contract harness fixture: one suite, every runtime (STYLE: as kine runs one suite per backend).

`h` is a `Harness` (see harness.py) around either the Podman runtime (our own service,
the locally built busybox image) or the fake. Everything a test creates carries a
per-test label and is removed after it; the fixture fails the test if anything is left.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from agent.runtime.fake import FakeRuntime
from agent.runtime.podman import PodmanRuntime, PodmanSettings
from agent.runtime.podman_service import PodmanService
from tests.e2e.runtime.harness import Harness

_counter = itertools.count(1)


@pytest.fixture(params=["podman", "fake"])
async def h(request: pytest.FixtureRequest, test_run_label: tuple[str, str]) -> AsyncIterator[Harness]:
    """The runtime under contract, with everything the test creates removed afterwards."""
    key, run_id = test_run_label
    run_label = {key: f"{run_id}-{next(_counter)}"}
    harness: Harness
    if request.param == "podman":
        service: PodmanService = request.getfixturevalue("podman_service")
        image: str = request.getfixturevalue("busybox_image")
        settings = PodmanSettings(socket_path=service.settings.socket_path)
        harness = Harness("podman", PodmanRuntime(settings), image, run_label, lambda: PodmanRuntime(settings))
    else:
        image = "localhost/busybox:latest"
        fake = FakeRuntime(images=[image])
        harness = Harness("fake", fake, image, run_label, lambda: fake, fake=fake)
    try:
        yield harness
    finally:
        await harness.cleanup()
