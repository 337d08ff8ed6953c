"""Informers list, follow the watch, index, and call handlers for every change."""

from __future__ import annotations

import asyncio
from typing import Any

from edgekube.controllers.informing import Handlers, Informer, by_namespace
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService


async def wait_for(predicate: Any, within: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_informer_follows_the_store(service: ResourceService) -> None:
    """Existing objects arrive as adds, later writes as updates and deletes, in the cache and handlers."""
    cms = service.registry.by_kind("", "v1", "ConfigMap")
    assert cms is not None
    await service.create(cms, "default", {"metadata": {"name": "before"}}, WriteOptions())
    seen: list[tuple[str, str]] = []
    informer = Informer(service, cms, indexers={"namespace": by_namespace})
    informer.add_handlers(
        Handlers(
            on_add=lambda o: seen.append(("add", o["metadata"]["name"])),
            on_update=lambda old, new: seen.append(("update", new["metadata"]["name"])),
            on_delete=lambda o: seen.append(("delete", o["metadata"]["name"])),
        )
    )
    task = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.synced.wait(), 2)
        await service.create(cms, "kube-system", {"metadata": {"name": "after"}}, WriteOptions())
        await service.update(
            cms, "default", "before", {"metadata": {"name": "before"}, "data": {"a": "1"}}, WriteOptions()
        )
        await deleting.delete(service, cms, "kube-system", "after", DeleteOptions())
        await wait_for(lambda: len(seen) == 4)
        assert seen == [("add", "before"), ("add", "after"), ("update", "before"), ("delete", "after")]
        assert [o["metadata"]["name"] for o in informer.by_index("namespace", "default")] == ["before"]
        assert informer.get("default/before")["data"] == {"a": "1"}  # type: ignore[index]
        assert informer.get("kube-system/after") is None
    finally:
        task.cancel()
