"""A private server with short controller timers, three simulated nodes, kubectl and an API client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgekube.client import ApiClient, Config
from edgekube.simulating import Fleet, HeartbeatSettings, NodeSettings, PodSettings, Settings
from tests.support.servers import ServerProcess, free_port
from tests.support.tools import require_kubectl

# Seconds, shortened so node failure and eviction play out within a test.
FAST_CONTROLLERS = [
    "--node-monitor-period", "0.5",
    "--node-monitor-grace-period", "3",
    "--default-toleration-seconds", "2",
]  # fmt: skip


@dataclass
class Kubectl:
    binary: str
    kubeconfig: Path
    cache: Path

    async def run(self, *args: str, check: bool = True, within: float = 60) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            self.binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), within)
        code = proc.returncode or 0
        if check:
            assert code == 0, f"kubectl {' '.join(args)} exited {code}: {err.decode()}{out.decode()}"
        return code, out.decode(), err.decode()

    async def out(self, *args: str) -> str:
        return (await self.run(*args))[1]


@pytest.fixture
def cluster_server(tmp_path: Path, schema_cache: Path) -> AsyncIterator[ServerProcess] | Any:
    server = ServerProcess(tmp_path / "data", free_port(), extra_args=list(FAST_CONTROLLERS)).start()
    yield server
    server.stop()


@pytest.fixture
async def api(cluster_server: ServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(Config.from_kubeconfig(cluster_server.kubeconfig), timeout=10) as client:
        yield client


@pytest.fixture
async def fleet(api: ApiClient) -> AsyncIterator[Fleet]:
    """Three simulated nodes: leases every 0.3 s, pods Running and Ready 0.2 s after binding."""
    settings = Settings(
        nodes=NodeSettings(count=3, name_prefix="edge-", labels={"role": "edge"}),
        heartbeat=HeartbeatSettings(lease_interval=0.3, status_report_interval=1.0),
        pods=PodSettings(start_delay=0.1, ready_delay=0.1, terminate_delay=0.2),
    )
    async with Fleet(api, settings) as running:
        yield running


@pytest.fixture
def kubectl(cluster_server: ServerProcess, tmp_path: Path) -> Kubectl:
    return Kubectl(require_kubectl(), cluster_server.kubeconfig, tmp_path / "kube-cache")


async def eventually(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    """Poll `check` until it holds; fail naming `what` after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not reached within {within}s: {what}")
        await asyncio.sleep(0.2)
