"""An agent streaming server over the fake runtime, and helpers to run pods on it.

Everything runs in the test's own event loop on loopback: the server listens on a free
port with its self-signed certificate, and clients pin its fingerprint as the API does.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from agent.runtime.fake import FakeRuntime
from agent.runtime.fake_programs import Program
from agent.runtime.interface import ContainerId, ContainerSpec, PodSandboxSpec
from agent.streaming import StreamingServer, StreamingSettings, serve_streaming
from tests.unit.streaming.lookups import LabelLookup

TOKEN = "join-token-for-tests"
IMAGE = "localhost/busybox:latest"


@dataclass
class Node:
    runtime: FakeRuntime
    server: StreamingServer

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def pin(self) -> aiohttp.Fingerprint:
        return aiohttp.Fingerprint(bytes.fromhex(self.server.fingerprint))

    async def start(
        self, namespace: str, pod: str, containers: Mapping[str, Program], *, restart_count: int = 0
    ) -> dict[str, ContainerId]:
        """Run `containers` (name -> program) as pod `namespace/pod`; their ids by name."""
        sandbox_spec = PodSandboxSpec(uid=str(uuid.uuid4()), namespace=namespace, name=pod)
        sandbox = await self.runtime.create_pod_sandbox(sandbox_spec)
        ids = {}
        for name, program in containers.items():
            argv = (f"{pod}-{name}-{restart_count}",)
            self.runtime.teach(argv, program)
            spec = ContainerSpec(name=name, image=IMAGE, command=argv, restart_count=restart_count)
            ids[name] = await self.runtime.create_container(sandbox.id, spec, sandbox_spec)
            await self.runtime.start_container(ids[name])
        return ids


async def start_node(tmp_path: Path) -> Node:
    runtime = FakeRuntime(images=[IMAGE])
    settings = StreamingSettings(
        token=TOKEN, cert_dir=tmp_path / "streaming", bind_address="127.0.0.1", port=0, client_check_interval=0.05
    )
    return Node(runtime, await serve_streaming(runtime, LabelLookup(runtime), settings))


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    """A node agent's streaming server over a fresh fake runtime."""
    started = await start_node(tmp_path)
    try:
        yield started
    finally:
        await started.server.close()


@pytest.fixture
async def agent_http(node: Node) -> AsyncIterator[aiohttp.ClientSession]:
    """A client of the node's streaming server with the join token."""
    async with aiohttp.ClientSession(base_url=node.base, headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        yield session
