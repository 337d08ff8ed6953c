"""Fixtures of the Service NAT end-to-end tests: the namespace lab and a running proxy."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from agent.network.local import LocalNode
from agent.network.proxying import run_service_proxy
from agent.settings import NetworkSettings
from edgekube.client import ENDPOINT_SLICES, SERVICES
from tests.e2e.nat.lab import NODE_IP, FakeCache, FakeWatches, Lab, ash, build, inside, teardown

TABLE = "h4_edgekube"  # a name of our own, which also checks that the setting is honoured


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Namespaces of this module, removed at the end with every table and link inside them."""
    made = Lab(prefix=f"h4-{secrets.token_hex(3)}", root=tmp_path_factory.mktemp("nat-lab"))
    try:
        build(made)
        yield made
    finally:
        teardown(made)


@dataclass
class Running:
    settings: NetworkSettings
    services: FakeCache
    slices: FakeCache
    task: asyncio.Task[None]

    def table_exists(self, lab: Lab) -> bool:
        done = subprocess.run(
            ["ip", "netns", "exec", lab.node, "nft", "list", "table", "ip", TABLE], capture_output=True
        )
        return done.returncode == 0


@pytest.fixture
async def proxy(lab: Lab) -> AsyncIterator[Running]:
    """run_service_proxy in the node's namespace, fed by fake watches that have not synced yet."""
    settings = NetworkSettings(nft_table=TABLE, resync_interval=0.5)
    node = LocalNode(
        name="node-a",
        ip=ipaddress.IPv4Address(NODE_IP),
        pod_cidr=ipaddress.IPv4Network("10.42.0.0/24"),
        interface="h4cl",
        mtu=1500,
    )
    watches = FakeWatches()
    with inside(lab.node):
        task = asyncio.create_task(run_service_proxy(settings=settings, watches=watches, node=node))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        try:
            yield Running(settings, watches.caches[SERVICES.plural], watches.caches[ENDPOINT_SLICES.plural], task)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await ash("ip", "netns", "exec", lab.node, "nft", "delete", "table", "ip", TABLE, check=False)
