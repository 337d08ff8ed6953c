"""Pod workers over the fake runtime: a context with recorders instead of the server.

`no_leftover_tasks` fails a test that leaves an asyncio task running (STYLE: kopf's habit):
a worker must stop everything it started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.cache import LocalCache
from agent.plugins import NoVolumes
from agent.pods.contexts import PodContext
from agent.pods.working import PodWorker
from agent.runtime.fake import FakeRuntime
from agent.settings import PodSettings
from edgekube.client import Resource

Obj = dict[str, Any]
IMAGE = "localhost/busybox:latest"
FAST = PodSettings(
    backoff_initial=0.1,
    backoff_max=0.4,
    backoff_reset=600.0,
    image_backoff_initial=0.1,
    image_backoff_max=0.4,
    resync_interval=0.2,
    default_grace_period=0.2,
    status_retry_max=0.2,
    sync_retry=0.1,
)


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
    for task in left:
        task.cancel()
    assert not left, f"tasks left behind: {[t.get_name() for t in left]}"


class RecordingSink:
    """The status poster's part the workers use; keeps every status posted."""

    def __init__(self) -> None:
        self.posted: list[Obj] = []
        self.sent: list[Obj] = []

    def post(self, namespace: str, name: str, uid: str, status: Obj) -> None:
        if not self.posted or self.posted[-1] != status:
            self.posted.append(status)

    def latest(self, namespace: str, name: str, uid: str) -> Obj | None:
        return None

    async def send_now(self, namespace: str, name: str, uid: str, status: Obj) -> None:
        self.post(namespace, name, uid, status)
        self.sent.append(status)

    def forget(self, uid: str) -> None:
        return None

    @property
    def last(self) -> Obj:
        return self.posted[-1] if self.posted else {}


class RecordingApi:
    def __init__(self) -> None:
        self.deletes: list[tuple[str, str | None, int | None, str | None]] = []

    async def delete(
        self,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        uid: str | None = None,
    ) -> Obj:
        self.deletes.append((name, namespace, grace_period_seconds, uid))
        return {}


class DictReferences:
    def __init__(self, configmaps: dict[str, Obj] | None = None, secrets: dict[str, Obj] | None = None) -> None:
        self.configmaps = configmaps or {}
        self.secrets = secrets or {}

    async def configmap(self, namespace: str, name: str) -> Obj | None:
        return self.configmaps.get(name)

    async def secret(self, namespace: str, name: str) -> Obj | None:
        return self.secrets.get(name)


@pytest.fixture
async def fake() -> AsyncIterator[FakeRuntime]:
    """The fake runtime; its "containers" (tasks) outlive workers, as pods outlive the agent, so
    the test's end removes them."""
    runtime = FakeRuntime(images=[IMAGE])
    yield runtime
    for sandbox in await runtime.list_pod_sandboxes():
        await runtime.remove_pod_sandbox(sandbox.id)


@pytest.fixture
def ctx(fake: FakeRuntime, tmp_path: Path) -> PodContext:
    return PodContext(
        runtime=fake,
        client=RecordingApi(),
        node_name="node-1",
        node_ip="10.0.0.7",
        settings=FAST,
        poster=RecordingSink(),
        cache=LocalCache(tmp_path / "agent"),
        volumes=NoVolumes(),
        references=DictReferences(),
    )


def pod(name: str, *containers: Obj, uid: str = "", **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": uid or f"uid-{name}"},
        "spec": {"nodeName": "node-1", "containers": list(containers), "terminationGracePeriodSeconds": 1, **spec},
        "status": {"phase": "Pending"},
    }


def container(name: str, *command: str, **extra: Any) -> Obj:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent", "command": list(command), **extra}


async def until(check: Callable[[], bool | Awaitable[bool]], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def sink(ctx: PodContext) -> RecordingSink:
    assert isinstance(ctx.poster, RecordingSink)
    return ctx.poster


def state_of(status: Obj, name: str, key: str = "containerStatuses") -> Obj:
    return next(c for c in status.get(key) or [] if c["name"] == name)


async def run_worker(ctx: PodContext, body: Obj) -> PodWorker:
    worker = PodWorker(ctx, body)
    worker.start()
    return worker
