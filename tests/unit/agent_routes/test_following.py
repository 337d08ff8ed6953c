"""The loop that follows Nodes: nothing before the first sync, debounced events, resync, retry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.network import routing
from agent.network.routes_states import Plan
from agent.network.routing import Outcome, follow_nodes, run_routes
from agent.settings import NetworkSettings

Obj = dict[str, Any]


class Nodes:
    """A ListWatcher's cache and synced event, filled by the test."""

    def __init__(self) -> None:
        self.cache: dict[str, Obj] = {}
        self.synced = asyncio.Event()

    async def wait_synced(self) -> None:
        await self.synced.wait()


class Recorder:
    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.fail_first = fail_first

    async def sync(self, nodes: list[Obj]) -> Outcome:
        self.calls.append(sorted(n["metadata"]["name"] for n in nodes))
        if len(self.calls) <= self.fail_first:
            return Outcome(Plan(), failures=["route 10.42.1.0/24 via 198.18.0.3: Network is unreachable"])
        return Outcome(Plan())


@pytest.fixture
async def loop_task() -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def start(tasks: list[asyncio.Task[None]], nodes: Nodes, changed: asyncio.Event, rec: Recorder, resync: float) -> None:
    coro = follow_nodes(nodes=nodes, changed=changed, sync=rec.sync, resync_interval=resync, debounce=0.02)
    tasks.append(asyncio.get_running_loop().create_task(coro))


async def test_nothing_happens_before_the_cache_has_synced(loop_task: list[asyncio.Task[None]]) -> None:
    """Offline rule: an unsynced (empty) cache never reaches the kernel; the synced one does."""
    nodes, changed, rec = Nodes(), asyncio.Event(), Recorder()
    start(loop_task, nodes, changed, rec, resync=60)
    changed.set()
    await asyncio.sleep(0.1)
    assert rec.calls == []
    nodes.cache["b"] = {"metadata": {"name": "b"}}
    nodes.synced.set()
    await asyncio.sleep(0.05)
    assert rec.calls == [["b"]]


async def test_a_burst_of_events_gives_one_reconcile(loop_task: list[asyncio.Task[None]]) -> None:
    """Events within the debounce window are folded into one reconcile of the whole cache."""
    nodes, changed, rec = Nodes(), asyncio.Event(), Recorder()
    nodes.synced.set()
    start(loop_task, nodes, changed, rec, resync=60)
    await asyncio.sleep(0.01)
    for name in ("b", "c", "d"):
        nodes.cache[name] = {"metadata": {"name": name}}
        changed.set()
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.1)
    assert rec.calls == [[], ["b", "c", "d"]]


async def test_resync_runs_without_events_and_keeps_the_last_cache(loop_task: list[asyncio.Task[None]]) -> None:
    """The timer reconciles again (drift) from the cache as last seen, as while the server is away."""
    nodes, changed, rec = Nodes(), asyncio.Event(), Recorder()
    nodes.cache["b"] = {"metadata": {"name": "b"}}
    nodes.synced.set()
    start(loop_task, nodes, changed, rec, resync=0.03)
    await asyncio.sleep(0.2)
    assert len(rec.calls) >= 4 and all(call == ["b"] for call in rec.calls)


async def test_failures_are_retried_sooner_than_the_resync(
    loop_task: list[asyncio.Task[None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reconcile with failed changes is tried again after the short retry delay, not the resync."""
    monkeypatch.setattr(routing, "FIRST_RETRY", 0.02)
    nodes, changed, rec = Nodes(), asyncio.Event(), Recorder(fail_first=2)
    nodes.synced.set()
    start(loop_task, nodes, changed, rec, resync=60)
    await asyncio.sleep(0.2)
    assert len(rec.calls) == 3


async def test_an_unknown_backend_is_refused() -> None:
    """run_routes names a backend it does not know instead of running without routes."""
    with pytest.raises(ValueError, match="bogus"):
        await run_routes(settings=NetworkSettings(backend="bogus"), watches=None, node=None)  # type: ignore[arg-type]
