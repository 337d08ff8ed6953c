"""The enforcement loop: waits for its watches, coalesces bursts, skips repeats, repairs drift, retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import structlog

from agent.network import policing
from agent.network.nft import NftError
from agent.settings import NetworkSettings
from edgekube.client import NAMESPACES, NETWORK_POLICIES, PODS, Resource
from tests.unit.agent_policy.objects import NODE, namespace, pod, policy

Obj = dict[str, Any]
SETTINGS = NetworkSettings(nft_table="ektest", resync_interval=0.2)


class FakeWatcher:
    def __init__(self) -> None:
        self.cache: dict[str, Obj] = {}
        self.synced = asyncio.Event()

    async def wait_synced(self) -> None:
        await self.synced.wait()


class FakeWatches:
    """SharedWatches without a server: tests put objects and mark lists synced."""

    def __init__(self) -> None:
        self.watchers: dict[str, FakeWatcher] = {}
        self.handlers: dict[str, list[Callable[[str, Obj], None]]] = {}

    def watch(self, resource: Resource, handler: Callable[[str, Obj], None] | None = None) -> FakeWatcher:
        self.handlers.setdefault(resource.plural, []).extend([handler] if handler else [])
        return self.watchers.setdefault(resource.plural, FakeWatcher())

    def put(self, resource: Resource, obj: Obj, *, sync: bool = False) -> None:
        meta = obj["metadata"]
        key = f"{meta['namespace']}/{meta['name']}" if "namespace" in meta else meta["name"]
        self.watchers[resource.plural].cache[key] = obj
        if sync:
            self.watchers[resource.plural].synced.set()
        for handler in self.handlers.get(resource.plural, []):
            handler("ADDED", obj)

    def sync(self, *resources: Resource) -> None:
        for resource in resources:
            self.watchers[resource.plural].synced.set()


class FakeKernel:
    """Stands in for nft: keeps the last applied text as 'the table', counts applies, can fail."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.table: str | None = None
        self.failures = 0

    async def apply(self, text: str) -> None:
        if self.failures:
            self.failures -= 1
            raise NftError("nft -f - failed (1): boom")
        self.applied.append(text)
        self.table = None if "table ip ektest_filter {" not in text else text

    async def list_json(self, family: str, table: str) -> dict[str, Any] | None:
        if self.table is None:
            return None
        return {
            "nftables": [{"metainfo": {"version": "1"}}, {"table": {"name": table, "handle": 7, "text": self.table}}]
        }


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> FakeKernel:
    found = FakeKernel()
    monkeypatch.setattr(policing, "apply_ruleset", found.apply)
    monkeypatch.setattr(policing, "list_table_json", found.list_json)
    monkeypatch.setattr(policing, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(policing, "POLICY_LIST_PATIENCE", 0.05)
    return found


@pytest.fixture
async def running(kernel: FakeKernel) -> AsyncIterator[FakeWatches]:
    """The loop running against fake watches; cancelled and awaited at the end (no task left behind)."""
    watches = FakeWatches()
    task = asyncio.create_task(
        policing.run_network_policy(settings=SETTINGS, watches=watches, node=NODE)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0)
    yield watches
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def settle() -> None:
    await asyncio.sleep(policing.COALESCE_SECONDS + 0.05)


def seed(watches: FakeWatches) -> None:
    watches.put(NAMESPACES, namespace("shop"))
    watches.put(PODS, pod("shop", "db", "10.42.1.3", labels={"app": "db"}))
    watches.put(NETWORK_POLICIES, policy("shop", "deny"))


async def test_nothing_is_applied_before_every_watch_synced(running: FakeWatches, kernel: FakeKernel) -> None:
    """Pods and namespaces listed but policies not yet: the kernel is not touched."""
    seed(running)
    running.sync(PODS, NAMESPACES)
    await settle()
    assert kernel.applied == []
    running.sync(NETWORK_POLICIES)
    await settle()
    assert len(kernel.applied) == 1
    assert "jump in_10_42_1_3" in kernel.applied[0]


async def test_missing_policy_kind_is_said_once_and_enforces_nothing(kernel: FakeKernel) -> None:
    """A server without NetworkPolicy (the list never syncs): one warning, no apply."""
    watches = FakeWatches()
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(
            policing.run_network_policy(settings=SETTINGS, watches=watches, node=NODE)  # type: ignore[arg-type]
        )
        await asyncio.sleep(0)
        watches.sync(PODS, NAMESPACES)
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert kernel.applied == []
    assert len([e for e in logs if "not listed yet" in e["event"]]) == 1


async def test_empty_cluster_removes_the_table(running: FakeWatches, kernel: FakeKernel) -> None:
    """Synced with no objects at all: one apply that only removes a leftover table."""
    running.sync(PODS, NAMESPACES, NETWORK_POLICIES)
    await settle()
    assert kernel.applied == ["add table ip ektest_filter\ndelete table ip ektest_filter\n"]


async def test_burst_is_one_transaction_and_repeats_are_skipped(running: FakeWatches, kernel: FakeKernel) -> None:
    """Many changes within the pause make one apply; a change that alters no rule makes none."""
    seed(running)
    running.sync(PODS, NAMESPACES, NETWORK_POLICIES)
    await settle()
    for i in range(2, 12):
        running.put(PODS, pod("shop", f"p{i}", f"10.42.1.{i + 10}"))
    await settle()
    assert len(kernel.applied) == 2
    # A status-only change: same address, same labels, same rules.
    changed = pod("shop", "p2", "10.42.1.12")
    changed["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    running.put(PODS, changed)
    await settle()
    assert len(kernel.applied) == 2


async def test_drift_is_repaired(running: FakeWatches, kernel: FakeKernel) -> None:
    """A table removed behind the agent's back is written again within a resync interval."""
    seed(running)
    running.sync(PODS, NAMESPACES, NETWORK_POLICIES)
    await settle()
    kernel.table = None
    await asyncio.sleep(SETTINGS.resync_interval * 2)
    assert len(kernel.applied) == 2
    assert kernel.applied[0] == kernel.applied[1]


async def test_failed_apply_is_retried(running: FakeWatches, kernel: FakeKernel) -> None:
    """nft refusing once: the same ruleset goes in on the next attempt."""
    kernel.failures = 1
    seed(running)
    running.sync(PODS, NAMESPACES, NETWORK_POLICIES)
    await asyncio.sleep(policing.COALESCE_SECONDS + policing.RETRY_SECONDS + 0.15)
    assert len(kernel.applied) == 1
    assert "jump in_10_42_1_3" in kernel.applied[0]


async def test_problems_are_logged_once(running: FakeWatches, kernel: FakeKernel) -> None:
    """An unreadable policy is named once, not on every render."""
    with structlog.testing.capture_logs() as logs:
        bad = policy("shop", "bad", podSelector={"matchExpressions": [{"key": "a", "operator": "Near"}]})
        running.put(NETWORK_POLICIES, bad)
        running.sync(PODS, NAMESPACES, NETWORK_POLICIES)
        await settle()
        running.put(PODS, pod("shop", "x", "10.42.1.40"))
        await settle()
    assert len([e for e in logs if e.get("problem", "").startswith("NetworkPolicy shop/bad")]) == 1


async def test_drift_is_checked_under_a_stream_of_changes(running: FakeWatches, kernel: FakeKernel) -> None:
    """Pod updates arriving faster than the resync interval do not put the drift check off."""
    seed(running)
    running.sync(PODS, NAMESPACES, NETWORK_POLICIES)
    await settle()
    kernel.table = None
    for _ in range(8):  # one status-only update every 0.06 s: `changed` is hardly ever clear
        running.put(PODS, pod("shop", "db", "10.42.1.3", labels={"app": "db"}))
        await asyncio.sleep(0.06)
    assert len(kernel.applied) == 2
    assert kernel.table == kernel.applied[0]
