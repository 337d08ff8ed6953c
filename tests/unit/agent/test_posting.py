"""The status poster: writes only what changed, keeps statuses on disk while the server is away."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, cast

from agent.cache import LocalCache
from agent.connectivity import Connectivity
from agent.pods.posting import StatusPoster
from edgekube.client import ApiClient, Resource, ServerUnreachable
from tests.unit.agent.conftest import until

Obj = dict[str, Any]
RUNNING = {"phase": "Running", "hostIP": "10.0.0.7", "podIP": None}


class FakeStatusApi:
    def __init__(self) -> None:
        self.up = True
        self.writes: list[Obj] = []
        self.revision = 10

    async def patch_status(self, resource: Resource, name: str, patch: Obj, namespace: str | None = None) -> Obj:
        if not self.up:
            raise ServerUnreachable("connection refused")
        self.writes.append(patch["status"])
        self.revision += 1
        status = {k: v for k, v in patch["status"].items() if v is not None}
        return {"metadata": {"name": name, "uid": "u1", "resourceVersion": str(self.revision)}, "status": status}


def poster(tmp_path: Path, api: FakeStatusApi, server: dict[str, Obj]) -> tuple[StatusPoster, LocalCache]:
    cache = LocalCache(tmp_path)
    return StatusPoster(
        client=cast(ApiClient, api),
        cache=cache,
        connectivity=Connectivity(),
        server_view=lambda namespace, name: server.get(name),
        retry_max=0.05,
    ), cache


async def test_unchanged_status_is_not_written(tmp_path: Path) -> None:
    """Equal to what the server holds (other fields aside): no write; a change: one write, then none."""
    api = FakeStatusApi()
    held = {"metadata": {"uid": "u1", "resourceVersion": "3"}, "status": {**RUNNING, "podIP": None, "qosClass": "X"}}
    sender, cache = poster(tmp_path, api, {"a": held})
    await cache.open()
    task = asyncio.create_task(sender.run())
    try:
        sender.post("d", "a", "u1", dict(RUNNING))
        await asyncio.sleep(0.05)
        assert api.writes == []
        sender.post("d", "a", "u1", {**RUNNING, "phase": "Succeeded"})
        await until(lambda: len(api.writes) == 1)
        sender.post("d", "a", "u1", {**RUNNING, "phase": "Succeeded"})  # the watch has not caught up yet
        await asyncio.sleep(0.05)
        assert len(api.writes) == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_unsent_statuses_wait_on_disk_and_go_out_later(tmp_path: Path) -> None:
    """Server down: the status goes to the local copy; a restarted poster sends it once the server is back."""
    api = FakeStatusApi()
    api.up = False
    sender, cache = poster(tmp_path, api, {})
    await cache.open()
    task = asyncio.create_task(sender.run())
    sender.post("d", "a", "u1", {**RUNNING, "phase": "Failed"})
    await until(lambda: (tmp_path / "status" / "u1.json").exists())
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    api.up = True
    again, cache = poster(tmp_path, api, {})
    await again.load()
    task = asyncio.create_task(again.run())
    try:
        await until(lambda: api.writes == [{**RUNNING, "phase": "Failed"}])
        await until(lambda: not (tmp_path / "status" / "u1.json").exists())
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
