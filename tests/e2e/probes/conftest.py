"""Probe tests: busybox containers on real Podman, in sandboxes with `network none`.

`web` is a running container whose sandbox has only `lo`, serving /www with busybox
httpd on port 8080 (pid in /tmp/httpd.pid, so a test can kill it) while `sleep` keeps
the container alive. Everything is removed after the test.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable

import pytest

from agent.probes import ProbeTarget, ProbeWorker
from agent.runtime.fake_programs import Program
from agent.runtime.interface import NetworkMode, Port
from agent.runtime.podman import PodmanRuntime, PodmanSettings
from agent.runtime.podman_service import PodmanService
from tests.e2e.probes.helpers import HTTPD, Running
from tests.e2e.runtime.harness import Harness

_counter = itertools.count(1)


@pytest.fixture
async def pods(
    podman_service: PodmanService, busybox_image: str, test_run_label: tuple[str, str]
) -> AsyncIterator[Harness]:
    key, run_id = test_run_label
    run_label = {key: f"{run_id}-probe-{next(_counter)}"}
    settings = PodmanSettings(socket_path=podman_service.settings.socket_path)
    harness = Harness("podman", PodmanRuntime(settings), busybox_image, run_label, lambda: PodmanRuntime(settings))
    try:
        yield harness
    finally:
        await harness.cleanup()


@pytest.fixture
async def web(pods: Harness) -> ProbeTarget:
    """A target: busybox httpd on :8080 (port name `http`) in a pod with no network but lo."""
    sandbox, sandbox_spec = await pods.sandbox("probes", network=NetworkMode.NONE)
    assert sandbox.netns_path is not None
    spec = pods.container_spec("web", HTTPD, Program(), ports=(Port(8080, name="http"),))
    container = await pods.run(sandbox, sandbox_spec, spec)
    return ProbeTarget(pods.runtime, container, netns_path=sandbox.netns_path, ports={"http": 8080})


@pytest.fixture
async def start() -> AsyncIterator[Callable[[str, dict[str, object], ProbeTarget], Running]]:
    """start(kind, probe, target) runs a ProbeWorker; all are cancelled after the test."""
    running: list[Running] = []

    def starter(kind: str, probe: dict[str, object], target: ProbeTarget) -> Running:
        changes: asyncio.Queue[bool] = asyncio.Queue()
        worker = ProbeWorker(kind, probe, target, changes.put_nowait)
        run = Running(worker, asyncio.create_task(worker.run()), changes)
        running.append(run)
        return run

    try:
        yield starter
    finally:
        for run in running:
            run.task.cancel()
        await asyncio.gather(*(r.task for r in running), return_exceptions=True)
