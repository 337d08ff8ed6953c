"""The shared async client against a real server: verbs, errors, watches, the reflector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from edgekube.client import (
    CONFIGMAPS,
    NODES,
    AlreadyExists,
    ApiClient,
    Config,
    Conflict,
    Gone,
    Invalid,
    ListWatcher,
    NotFound,
    PatchType,
    ServerUnreachable,
)
from tests.support.servers import ServerProcess, free_port

COMPACT_OFTEN = ["--compaction-interval", "0.2", "--compaction-retention-seconds", "0"]
COMPACT_OFTEN += ["--compaction-retention-events", "3"]


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}}, "data": data}


@pytest.fixture
async def api(shared_server: ServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(Config.from_kubeconfig(shared_server.kubeconfig), timeout=10) as client:
        yield client


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `check` until it holds (a ListWatcher offers no event to wait on for its cache)."""
    async with asyncio.timeout(within):
        while True:
            if check():
                return
            await asyncio.sleep(0.02)


async def next_events(events: AsyncIterator[tuple[str, dict[str, Any]]], count: int) -> list[tuple[str, str]]:
    """(type, name) of the next `count` events, within a few seconds."""
    out: list[tuple[str, str]] = []
    async with asyncio.timeout(10):
        async for kind, obj in events:
            out.append((kind, obj["metadata"]["name"]))
            if len(out) == count:
                break
    return out


async def test_crud_round_trip(api: ApiClient, namespace: str) -> None:
    """create, get, update (PUT) and the three patch types, then delete: each returns the stored object."""
    created = await api.create(CONFIGMAPS, configmap("a", k="1"), namespace)
    assert created["metadata"]["uid"] and created["data"] == {"k": "1"}
    assert await api.get(CONFIGMAPS, "a", namespace) == created
    created["data"]["k"] = "2"
    updated = await api.update(CONFIGMAPS, created)
    assert updated["data"] == {"k": "2"}
    merged = await api.patch(CONFIGMAPS, "a", {"data": {"m": "x"}}, namespace)
    assert merged["data"] == {"k": "2", "m": "x"}
    ops = [{"op": "remove", "path": "/data/m"}]
    assert (await api.patch(CONFIGMAPS, "a", ops, namespace, patch_type=PatchType.JSON))["data"] == {"k": "2"}
    strategic = await api.patch(CONFIGMAPS, "a", {"data": {"s": "y"}}, namespace, patch_type=PatchType.STRATEGIC)
    assert strategic["data"] == {"k": "2", "s": "y"}
    await api.delete(CONFIGMAPS, "a", namespace)
    with pytest.raises(NotFound):
        await api.get(CONFIGMAPS, "a", namespace)


async def test_errors_are_typed_and_keep_the_message(api: ApiClient, namespace: str) -> None:
    """404, 409 (exists, stale, uid precondition) and 422 come back as edgekube.errors with the server's words."""
    with pytest.raises(NotFound, match='configmaps "nope" not found'):
        await api.get(CONFIGMAPS, "nope", namespace)
    first = await api.create(CONFIGMAPS, configmap("dup"), namespace)
    with pytest.raises(AlreadyExists, match="already exists"):
        await api.create(CONFIGMAPS, configmap("dup"), namespace)
    await api.patch(CONFIGMAPS, "dup", {"data": {"x": "1"}}, namespace)
    with pytest.raises(Conflict, match="has been modified"):
        await api.update(CONFIGMAPS, first)
    with pytest.raises(Conflict, match="Precondition failed: UID"):
        await api.delete(CONFIGMAPS, "dup", namespace, uid="not-the-uid")
    with pytest.raises(Invalid) as caught:
        await api.create(CONFIGMAPS, configmap("Bad_Name"), namespace)
    assert caught.value.details is not None and caught.value.details.causes[0].field == "metadata.name"


async def test_list_selectors_and_pages(api: ApiClient, namespace: str) -> None:
    """Label and field selectors filter; limit/continue pages add up to the whole list at one revision."""
    for i in range(5):
        await api.create(CONFIGMAPS, configmap(f"c{i}", {"parity": "even" if i % 2 == 0 else "odd"}), namespace)
    even = await api.list(CONFIGMAPS, namespace, label_selector="parity=even")
    assert sorted(o["metadata"]["name"] for o in even.items) == ["c0", "c2", "c4"]
    one = await api.list(CONFIGMAPS, namespace, field_selector="metadata.name=c3")
    assert [o["metadata"]["name"] for o in one.items] == ["c3"]
    page = await api.list(CONFIGMAPS, namespace, limit=2)
    assert len(page.items) == 2 and page.continue_token and page.resource_version
    rest = await api.list(CONFIGMAPS, namespace, continue_token=page.continue_token)
    everything = await api.list_all(CONFIGMAPS, namespace, page_size=2)
    names = [o["metadata"]["name"] for o in everything.items]
    assert names == [o["metadata"]["name"] for o in page.items + rest.items] == [f"c{i}" for i in range(5)]


async def test_status_subresource(api: ApiClient, request: pytest.FixtureRequest) -> None:
    """update_status and patch_status write only status; a main update leaves status alone."""
    name = f"client-node-{id(request) % 100000}"
    node = await api.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    try:
        node["status"] = {"capacity": {"pods": "10"}}
        written = await api.update_status(NODES, node)
        assert written["status"]["capacity"] == {"pods": "10"}
        patched = await api.patch_status(NODES, name, {"status": {"nodeInfo": {"architecture": "arm64"}}})
        assert patched["status"]["nodeInfo"]["architecture"] == "arm64"
        patched["status"] = {}
        patched["metadata"]["labels"] = {"x": "y"}
        kept = await api.update(NODES, patched)
        assert kept["metadata"]["labels"] == {"x": "y"} and kept["status"]["capacity"] == {"pods": "10"}
    finally:
        await api.delete(NODES, name)


async def test_watch_order_and_resume(api: ApiClient, namespace: str) -> None:
    """Events come in write order; a watch from an event's resourceVersion resumes right after it."""
    start = (await api.list(CONFIGMAPS, namespace)).resource_version
    async with api.watch(CONFIGMAPS, namespace, resource_version=start) as events:
        await api.create(CONFIGMAPS, configmap("w1"), namespace)
        mid = await api.create(CONFIGMAPS, configmap("w2"), namespace)
        await api.patch(CONFIGMAPS, "w1", {"data": {"a": "b"}}, namespace)
        await api.delete(CONFIGMAPS, "w2", namespace)
        seen = await next_events(events, 4)
    assert seen == [("ADDED", "w1"), ("ADDED", "w2"), ("MODIFIED", "w1"), ("DELETED", "w2")]
    resumed = api.watch(CONFIGMAPS, namespace, resource_version=mid["metadata"]["resourceVersion"])
    async with resumed:
        assert await next_events(resumed, 2) == [("MODIFIED", "w1"), ("DELETED", "w2")]


async def test_watch_reopens_after_the_server_ends_it(api: ApiClient, namespace: str) -> None:
    """When the server closes the stream (timeoutSeconds), the iterator reconnects from where it was."""
    start = (await api.list(CONFIGMAPS, namespace)).resource_version
    async with api.watch(CONFIGMAPS, namespace, resource_version=start, timeout_seconds=1) as events:
        await api.create(CONFIGMAPS, configmap("before"), namespace)
        assert await next_events(events, 1) == [("ADDED", "before")]
        await asyncio.sleep(1.5)  # the server has ended the first stream by now
        await api.create(CONFIGMAPS, configmap("after"), namespace)
        assert await next_events(events, 1) == [("ADDED", "after")]


async def test_reflector_follows_adds_updates_deletes(api: ApiClient, namespace: str) -> None:
    """The ListWatcher's cache starts from a list, then follows every change; the handler sees each."""
    await api.create(CONFIGMAPS, configmap("old"), namespace)
    seen: list[tuple[str, str]] = []
    watcher = ListWatcher(api, CONFIGMAPS, namespace, on_event=lambda t, o: seen.append((t, o["metadata"]["name"])))
    task = asyncio.create_task(watcher.run())
    try:
        async with asyncio.timeout(10):
            await watcher.wait_synced()
        assert set(watcher.cache) == {f"{namespace}/old"}
        await api.create(CONFIGMAPS, configmap("new", v="1"), namespace)
        await api.patch(CONFIGMAPS, "new", {"data": {"v": "2"}}, namespace)
        await api.delete(CONFIGMAPS, "old", namespace)
        await until(lambda: len(seen) >= 4)
        assert seen == [("ADDED", "old"), ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "old")]
        assert set(watcher.cache) == {f"{namespace}/new"}
        assert watcher.cache[f"{namespace}/new"]["data"] == {"v": "2"}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_server_unreachable_on_a_closed_port(shared_server: ServerProcess) -> None:
    """Nothing listening: calls and watches raise ServerUnreachable, not an API error."""
    config = Config.from_files(f"https://127.0.0.1:{free_port()}", token="t", ca_file=shared_server.ca_file)
    async with ApiClient(config, timeout=2) as api:
        with pytest.raises(ServerUnreachable):
            await api.get(CONFIGMAPS, "x", "default")
        with pytest.raises(ServerUnreachable):
            async with api.watch(CONFIGMAPS, "default") as events:
                await anext(events)


async def test_gone_after_compaction_and_the_reflector_relists(fresh_server: ServerProcess) -> None:
    """A watch from a compacted revision raises Gone; a ListWatcher that hits it lists again and goes on."""
    fresh_server.extra_args = COMPACT_OFTEN
    fresh_server.start()
    async with ApiClient(Config.from_kubeconfig(fresh_server.kubeconfig), timeout=10) as api:
        first = await api.create(CONFIGMAPS, configmap("first"), "default")
        for i in range(8):
            await api.create(CONFIGMAPS, configmap(f"more{i}"), "kube-public")
        await asyncio.sleep(1.0)
        with pytest.raises(Gone, match="too old resource version"):
            async with api.watch(CONFIGMAPS, "default", resource_version=first["metadata"]["resourceVersion"]) as w:
                await anext(w)

        # The watcher's namespace stays quiet, so each reopen (every second) asks for a revision
        # that writes elsewhere have pushed out of the log.
        watcher = ListWatcher(api, CONFIGMAPS, "default", watch_timeout_seconds=1)
        task = asyncio.create_task(watcher.run())
        try:
            async with asyncio.timeout(10):
                await watcher.wait_synced()
                for i in range(8):
                    await api.create(CONFIGMAPS, configmap(f"again{i}"), "kube-public")
                await until(lambda: watcher.relists > 0)
                await api.create(CONFIGMAPS, configmap("later"), "default")
                await until(lambda: "default/later" in watcher.cache)
            assert "default/first" in watcher.cache
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_reflector_keeps_its_cache_while_the_server_is_down(fresh_server: ServerProcess) -> None:
    """Offline: calls raise ServerUnreachable, the cache stays; after a restart the watch resumes without a list."""
    fresh_server.start()
    async with ApiClient(Config.from_kubeconfig(fresh_server.kubeconfig), timeout=2) as api:
        await api.create(CONFIGMAPS, configmap("kept"), "default")
        watcher = ListWatcher(api, CONFIGMAPS, "default")
        task = asyncio.create_task(watcher.run())
        try:
            async with asyncio.timeout(10):
                await watcher.wait_synced()
            await asyncio.to_thread(fresh_server.kill9)  # a power cut: no goodbye on the watch
            with pytest.raises(ServerUnreachable):
                await api.get(CONFIGMAPS, "kept", "default")
            assert "default/kept" in watcher.cache
            await asyncio.to_thread(fresh_server.start)
            await api.create(CONFIGMAPS, configmap("back"), "default")
            await until(lambda: "default/back" in watcher.cache, within=15)
            assert watcher.relists == 0 and "default/kept" in watcher.cache
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
