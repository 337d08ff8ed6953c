"""The cluster DNS resolver inside a namespace of the test's own, fed Services through fake watches.

Everything runs as root in `h5dns-*` namespaces that each test creates and deletes; queries
go only to addresses inside it (10.43.0.10 on a dummy device, fake upstreams on 127.0.0.x).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from agent.dns.serving import run_cluster_dns
from agent.network.local import LocalNode
from agent.settings import NetworkSettings
from agent.watches import SharedWatches
from edgekube.client import Resource
from tests.e2e.dns.netns import NetnsLoop, OwnNetns
from tests.e2e.dns.upstreams import FakeUpstream
from tests.unit.agent_dns.objects import SERVICES, SLICES

Obj = dict[str, Any]
GOOD_UPSTREAM, DEAD_UPSTREAM, SILENT_UPSTREAM = "127.0.0.2", "127.0.0.3", "127.0.0.4"


@dataclass
class FakeWatcher:
    cache: dict[str, Obj] = field(default_factory=dict)
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    handlers: list[Any] = field(default_factory=list)

    def put(self, obj: Obj) -> None:
        meta = obj["metadata"]
        self.cache[f"{meta['namespace']}/{meta['name']}"] = obj
        for handler in self.handlers:
            handler("ADDED", obj)


class FakeWatches:
    """SharedWatches' `watch()` over caches the test fills; `sync()` marks them listed."""

    def __init__(self) -> None:
        self.watchers: dict[str, FakeWatcher] = {}

    def watch(self, resource: Resource, handler: Any = None) -> FakeWatcher:
        watcher = self.watchers.setdefault(resource.plural, FakeWatcher())
        if handler is not None:
            watcher.handlers.append(handler)
        return watcher

    def sync(self, services: list[Obj], slices: list[Obj]) -> None:
        for obj in services:
            self.watchers["services"].put(obj)
        for obj in slices:
            self.watchers["endpointslices"].put(obj)
        for watcher in self.watchers.values():
            watcher.synced.set()


@dataclass
class DnsSandbox:
    netns: OwnNetns
    loop: NetnsLoop
    watches: FakeWatches
    upstream: FakeUpstream
    silent: FakeUpstream
    settings: NetworkSettings


@pytest.fixture
def netns() -> Iterator[OwnNetns]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.fail("the DNS end-to-end tests run as root with iproute2 (ip netns)", pytrace=False)
    ns = OwnNetns().create()
    try:
        yield ns
    finally:
        ns.delete()


def make_sandbox(netns: OwnNetns, tmp_path: Path, upstreams: list[str], *, synced: bool = True) -> Iterator[DnsSandbox]:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("".join(f"nameserver {server}\n" for server in upstreams) + "search lan\n")
    settings = NetworkSettings(resolv_conf=str(resolv), resync_interval=0.2)
    loop = NetnsLoop(netns.name).start()
    try:

        async def start() -> tuple[FakeWatches, FakeUpstream, FakeUpstream]:
            watches = FakeWatches()
            upstream = await FakeUpstream(GOOD_UPSTREAM).start()
            silent = await FakeUpstream(SILENT_UPSTREAM, silent=True).start()
            node = LocalNode("n1", *_node_facts())
            asyncio.get_running_loop().create_task(
                run_cluster_dns(settings=settings, watches=cast(SharedWatches, watches), node=node), name="dns"
            )
            await asyncio.sleep(0.1)
            if synced:
                watches.sync(SERVICES, SLICES)
            return watches, upstream, silent

        watches, upstream, silent = loop.run(start())
        yield DnsSandbox(netns, loop, watches, upstream, silent, settings)
    finally:
        loop.stop()


def _node_facts() -> tuple[Any, Any, str, int]:
    import ipaddress

    return ipaddress.IPv4Address("192.0.2.1"), ipaddress.IPv4Network("10.42.0.0/24"), "sink0", 1500


@pytest.fixture
def sandbox(netns: OwnNetns, tmp_path: Path) -> Iterator[DnsSandbox]:
    """Resolver on 10.43.0.10 (address added after it started), upstreams: itself, a dead one, a good one."""
    sandboxes = make_sandbox(netns, tmp_path, ["10.43.0.10", DEAD_UPSTREAM, GOOD_UPSTREAM])
    box = next(sandboxes)
    netns.add_address("10.43.0.10/32")
    yield box
    next(sandboxes, None)
