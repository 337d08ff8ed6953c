"""A cluster for `kubectl logs` and `kubectl exec` against real containers.

Real parts: an `edgekube server` process, Podman (the session's service, the busybox
image), the agent's streaming server running in the test's event loop, and the real
kubectl. The agent core is not: each test creates a Node (InternalIP 127.0.0.1, the
streaming port, the pinned fingerprint) and a Pod bound to it through the API, and
starts the pod's containers itself through the runtime with the adoption labels, which
the lookup of tests/unit/streaming/lookups.py finds them by.

The server is this module's own (`--disable-controllers`): its Nodes never heartbeat,
and no scheduler or node controller of a shared server should see them.
kubectl runs as a subprocess the event loop waits on, since the agent serves it from
the same loop. Everything a test creates carries its run label and is removed after it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agent.runtime.interface import ContainerId, ContainerSpec, PodSandboxSpec, Sandbox
from agent.runtime.podman import PodmanRuntime, PodmanSettings
from agent.runtime.podman_service import PodmanService
from agent.streaming import PIN_ANNOTATION, StreamingServer, StreamingSettings, serve_streaming
from tests.support.servers import ServerProcess, free_port
from tests.unit.streaming.lookups import LabelLookup

KUBECTL_TIMEOUT = 30.0
_counter = itertools.count(1)


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"{' '.join(self.argv)}\nexit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Cluster:
    server: ServerProcess
    api: aiohttp.ClientSession
    runtime: PodmanRuntime
    agent: StreamingServer
    image: str
    run_label: dict[str, str]
    namespace: str
    node: str
    kubectl_argv: list[str]
    kubectl_env: dict[str, str]
    sandboxes: dict[str, tuple[Sandbox, PodSandboxSpec]] = field(default_factory=dict)

    # -- objects -----------------------------------------------------------------------

    async def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        async with self.api.post(path, json=body) as r:
            answer: dict[str, Any] = await r.json()
            assert r.status == 201, answer
            return answer

    async def pod(self, name: str, containers: Mapping[str, str], *, node: str | None = None) -> None:
        """A Pod object bound to the test's node (or `node`); `containers` maps names to shell scripts."""
        spec: dict[str, Any] = {
            "nodeName": self.node if node is None else node,
            "containers": [{"name": c, "image": self.image, "command": ["sh", "-c", s]} for c, s in containers.items()],
        }
        if not spec["nodeName"]:
            del spec["nodeName"]
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
        await self.post(f"/api/v1/namespaces/{self.namespace}/pods", body)

    async def run(self, pod: str, container: str, script: str, *, restart_count: int = 0) -> ContainerId:
        """Start `script` as container `container` of `pod` (incarnation `restart_count`)."""
        if pod not in self.sandboxes:
            wanted = PodSandboxSpec(uid=str(uuid.uuid4()), namespace=self.namespace, name=pod, labels=self.run_label)
            self.sandboxes[pod] = (await self.runtime.create_pod_sandbox(wanted), wanted)
        sandbox, sandbox_spec = self.sandboxes[pod]
        spec = ContainerSpec(
            name=container,
            image=self.image,
            command=("sh", "-c", script),
            restart_count=restart_count,
            labels=self.run_label,
        )
        container_id = await self.runtime.create_container(sandbox.id, spec, sandbox_spec)
        await self.runtime.start_container(container_id)
        return container_id

    async def running_pod(self, name: str, containers: Mapping[str, str]) -> None:
        """The Pod object and its containers, started."""
        await self.pod(name, containers)
        for container, script in containers.items():
            await self.run(name, container, script)

    # -- kubectl -----------------------------------------------------------------------

    def argv(self, *args: str) -> list[str]:
        return [*self.kubectl_argv, "--namespace", self.namespace, *args]

    async def kubectl(
        self, *args: str, stdin: bytes | None = None, expect: int = 0, seconds: float = KUBECTL_TIMEOUT
    ) -> Result:
        """Run kubectl to the end; fail the test unless it exits with `expect`."""
        proc = await asyncio.create_subprocess_exec(
            *self.argv(*args),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.kubectl_env,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin), seconds)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            pytest.fail(f"kubectl {' '.join(args)} did not finish in {seconds}s")
        result = Result(("kubectl", *args), proc.returncode or 0, out.decode(), err.decode())
        if result.returncode != expect:
            pytest.fail(f"expected exit code {expect}:\n{result.describe()}")
        return result

    async def logs_until(self, *args: str, contains: str, seconds: float = 15.0) -> str:
        """`kubectl logs ARGS` until its output holds `contains` (containers write asynchronously)."""
        async with asyncio.timeout(seconds):
            while True:
                out = (await self.kubectl("logs", *args)).stdout
                if contains in out:
                    return out
                await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory: pytest.TempPathFactory, schema_cache: Path) -> Iterator[ServerProcess]:
    """An API server of this module's own, without controllers (see the module docstring)."""
    server = ServerProcess(tmp_path_factory.mktemp("stream-server"), free_port(), ["--disable-controllers"])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kubectl_setup(
    tmp_path_factory: pytest.TempPathFactory, stream_server: ServerProcess
) -> tuple[list[str], dict[str, str]]:
    """The real kubectl with the server's kubeconfig and a discovery cache of this module's."""
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail("kubectl is not installed: these tests need the real binary (Debian: kubernetes-client)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "KUBECTL_"))}
    env["HOME"] = str(tmp_path_factory.mktemp("kubectl-home"))
    cache = tmp_path_factory.mktemp("kubectl-cache")
    return [binary, "--kubeconfig", str(stream_server.kubeconfig), "--cache-dir", str(cache)], env


@pytest.fixture(scope="module")
def agent_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The agent's certificate directory, kept for the module as an agent keeps it across restarts."""
    return tmp_path_factory.mktemp("agent-streaming")


@pytest.fixture
async def cluster(
    request: pytest.FixtureRequest,
    stream_server: ServerProcess,
    kubectl_setup: tuple[list[str], dict[str, str]],
    agent_dir: Path,
    podman_service: PodmanService,
    busybox_image: str,
    test_run_label: tuple[str, str],
) -> AsyncIterator[Cluster]:
    """A namespace, a Node served by a streaming server in this loop, and cleanup of both."""
    key, run_id = test_run_label
    suffix = f"{os.getpid() % 1000}-{next(_counter)}"
    run_label = {key: f"{run_id}-stream-{suffix}"}
    runtime = PodmanRuntime(PodmanSettings(socket_path=podman_service.settings.socket_path))
    token = stream_server.token
    settings = StreamingSettings(token=token, cert_dir=agent_dir, bind_address="127.0.0.1", port=0)
    agent = await serve_streaming(runtime, LabelLookup(runtime), settings)
    session = aiohttp.ClientSession(
        base_url=stream_server.url,
        headers={"Authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(ssl=stream_server.ssl_context()),
    )
    argv, env = kubectl_setup
    cluster = Cluster(
        stream_server,
        session,
        runtime,
        agent,
        busybox_image,
        run_label,
        f"stream-{suffix}",
        f"node-{suffix}",
        argv,
        env,
    )
    try:
        await cluster.post("/api/v1/namespaces", {"metadata": {"name": cluster.namespace}})
        node = {
            "metadata": {"name": cluster.node, "annotations": {PIN_ANNOTATION: agent.fingerprint}},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": agent.port}},
            },
        }
        await cluster.post("/api/v1/nodes", node)
        yield cluster
    finally:
        try:
            for sandbox in await runtime.list_pod_sandboxes(run_label):
                await runtime.remove_pod_sandbox(sandbox.id)
            assert await runtime.list_containers(run_label) == []
        finally:
            await agent.close()
            await runtime.close()
            async with session.delete(f"/api/v1/nodes/{cluster.node}"):
                pass
            async with session.delete(f"/api/v1/namespaces/{cluster.namespace}"):
                pass
            await session.close()
