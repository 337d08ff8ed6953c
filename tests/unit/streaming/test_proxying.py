"""The API server's pods/log and pods/exec proxy, in process, against a real agent streaming server.

The proxy runs behind the API's own error middleware; its two reads of the store (the
pod, its node) come from dicts. The agent is the streaming server over the fake runtime.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from agent.runtime.fake_programs import Exit, Program, Sleep, Write
from agent.runtime.interface import ContainerId, LogLine
from agent.streaming.channels import V5
from edgekube.api import proxying
from edgekube.api.middleware import errors
from edgekube.errors import not_found
from edgekube.resources.objects import Obj
from edgekube.resources.registry import default_registry
from edgekube.resources.strategy import Strategy
from edgekube.service.resources import ResourceService
from tests.support.servers import free_port
from tests.unit.streaming.conftest import TOKEN, Node
from tests.unit.streaming.frames import read_all

PIN = "edgekube.io/streaming-cert-sha256"


@dataclass
class Objects:
    """The reads the proxy makes of the store, served from dicts."""

    pods: dict[tuple[str, str], Obj] = field(default_factory=dict)
    nodes: dict[str, Obj] = field(default_factory=dict)

    async def read(self, strategy: Strategy, namespace: str | None, name: str) -> tuple[Obj, int]:
        if strategy.kind.kind == "Pod":
            found = self.pods.get((namespace or "", name))
        else:
            found = self.nodes.get(name)
        if found is None:
            raise not_found(strategy.kind.plural, name)
        return found, 1

    def add_node(self, name: str, port: int, fingerprint: str | None, address: str = "127.0.0.1") -> None:
        annotations = {PIN: fingerprint} if fingerprint else {}
        self.nodes[name] = {
            "metadata": {"name": name, "annotations": annotations},
            "status": {
                "addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": address}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
            },
        }

    def add_pod(self, namespace: str, name: str, containers: list[str], node: str = "n1") -> None:
        spec: dict[str, Any] = {"containers": [{"name": c, "image": "x"} for c in containers]}
        if node:
            spec["nodeName"] = node
        self.pods[(namespace, name)] = {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


@dataclass
class Api:
    objects: Objects
    session: aiohttp.ClientSession

    def url(self, pod: str, sub: str, query: str = "") -> str:
        return f"/api/v1/namespaces/ns/pods/{pod}/{sub}" + (f"?{query}" if query else "")


@pytest.fixture
async def api(node: Node) -> AsyncIterator[Api]:
    """An API app holding only the proxy, and a client of it; node n1 is the fixture's agent."""
    objects = Objects()
    objects.add_node("n1", node.server.port, node.server.fingerprint)
    app = web.Application(middlewares=[errors])
    proxying.install(app, service=cast(ResourceService, objects), registry=default_registry(), token=TOKEN)
    app[proxying.PROXY].check_interval = 0.05

    async def handle(request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await proxying.serve(request, info["ns"], info["name"], info["sub"])

    app.router.add_route("*", "/api/v1/namespaces/{ns}/pods/{name}/{sub}", handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
        yield Api(objects, session)
    await runner.cleanup()


async def test_logs_pass_through(api: Api, node: Node) -> None:
    """Log options reach the agent and its body comes back as it is."""
    await node.start("ns", "web", {"main": Program((Write("a\n"), Write("b\n"), Sleep()))})
    api.objects.add_pod("ns", "web", ["main"])
    async with api.session.get(api.url("web", "log", "tailLines=1")) as r:
        assert (r.status, await r.text()) == (200, "b\n")
    async with api.session.get(api.url("web", "log", "container=main")) as r:
        assert await r.text() == "a\nb\n"


async def test_followed_logs_stream(api: Api, node: Node) -> None:
    """A follower gets each line when it is written, and the end when the container exits."""
    program = Program((Write("first\n"), Sleep(0.3), Write("second\n"), Sleep(0.2), Exit(0)))
    await node.start("ns", "web", {"main": program})
    api.objects.add_pod("ns", "web", ["main"])
    async with asyncio.timeout(10), api.session.get(api.url("web", "log", "follow=true")) as r:
        assert await r.content.readline() == b"first\n"
        assert await r.content.readline() == b"second\n"
        assert await r.content.read() == b""


async def test_follower_that_leaves_releases_the_agent(api: Api, node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """When a follower disconnects, the proxy drops its agent connection and the agent its runtime stream."""
    await node.start("ns", "web", {"main": Program((Write("only\n"), Sleep()))})
    api.objects.add_pod("ns", "web", ["main"])
    closed = asyncio.Event()
    original = node.runtime.logs

    async def watched(container: ContainerId, **options: Any) -> AsyncIterator[LogLine]:
        try:
            async for line in original(container, **options):
                yield line
        finally:
            closed.set()

    monkeypatch.setattr(node.runtime, "logs", watched)
    async with api.session.get(api.url("web", "log", "follow=true")) as r:
        assert await r.content.readline() == b"only\n"
    async with asyncio.timeout(5):
        await closed.wait()


@pytest.mark.parametrize(
    ("containers", "node_name", "query", "code", "message"),
    [
        (["main"], "", "", 400, "pod web does not have a host assigned"),
        (["a", "b"], "n1", "", 400, "a container name must be specified for pod web, choose one of: [a b]"),
        (["main"], "n1", "container=other", 400, "container other is not valid for pod web"),
        (["main"], "n1", "previous=true", 400, 'previous terminated container "main" in pod "web" not found'),
        (["main"], "gone", "", 404, 'nodes "gone" not found'),
    ],
)
async def test_log_refusals(
    api: Api, node: Node, containers: list[str], node_name: str, query: str, code: int, message: str
) -> None:
    """Refusals are Status objects with kube-apiserver's (or the agent's) code and wording."""
    await node.start("ns", "web", {c: Program((Sleep(),)) for c in containers})
    api.objects.add_pod("ns", "web", containers, node=node_name)
    async with api.session.get(api.url("web", "log", query)) as r:
        status = await r.json()
    assert (r.status, status["code"], status["message"]) == (code, code, message)


async def test_unreachable_agent_is_503(api: Api, node: Node) -> None:
    """A node whose agent does not answer gives 503 naming the node and its address."""
    api.objects.add_node("n2", free_port(), node.server.fingerprint)
    api.objects.add_pod("ns", "web", ["main"], node="n2")
    async with api.session.get(api.url("web", "log")) as r:
        status = await r.json()
    assert (r.status, status["reason"]) == (503, "ServiceUnavailable")
    assert "cannot reach the agent of node n2 at 127.0.0.1:" in status["message"]


@pytest.mark.parametrize(
    ("fingerprint", "code", "message"),
    [
        (None, 503, "node n1 has not published the fingerprint of its streaming certificate"),
        ("ab" * 32, 500, "does not present the certificate node n1 published"),
        ("not-hex", 503, "is not a SHA-256 fingerprint"),
    ],
)
async def test_agent_certificate_is_pinned(
    api: Api, node: Node, fingerprint: str | None, code: int, message: str
) -> None:
    """Only the certificate the node published is trusted; without one the proxy refuses."""
    await node.start("ns", "web", {"main": Program((Write("a\n"), Sleep()))})
    api.objects.add_node("n1", node.server.port, fingerprint)
    api.objects.add_pod("ns", "web", ["main"])
    async with api.session.get(api.url("web", "log")) as r:
        status = await r.json()
    assert r.status == code
    assert message in status["message"]


async def test_exec_is_spliced(api: Api, node: Node) -> None:
    """Exec frames pass both ways and the agent's exit Status and close reach the client."""
    await node.start("ns", "web", {"main": Program((Sleep(),))})
    node.runtime.teach(("sh", "-c", "echo ok; exit 3"), Program((Write("ok\n"), Exit(3))))
    api.objects.add_pod("ns", "web", ["main"])
    query = "command=sh&command=-c&command=echo+ok%3B+exit+3&stdout=true&stderr=true"
    async with asyncio.timeout(10):
        ws = await api.session.ws_connect(api.url("web", "exec", query), protocols=(V5,))
        assert ws.protocol == V5
        seen = await read_all(ws)
    assert (seen.stdout, seen.exit_code, seen.close_code) == (b"ok\n", 3, 1000)


async def test_exec_refused_by_the_agent_is_reported_in_band(api: Api, node: Node) -> None:
    """After the upgrade, the agent's refusal arrives as a Failure Status (kubectl prints it)."""
    await node.start("ns", "web", {"main": Program((Exit(0),))})
    api.objects.add_pod("ns", "web", ["main"])
    await asyncio.sleep(0.05)
    async with asyncio.timeout(10):
        ws = await api.session.ws_connect(api.url("web", "exec", "command=sh&stdout=1"), protocols=(V5,))
        seen = await read_all(ws)
    assert seen.status["status"] == "Failure"
    assert seen.status["message"].startswith('container "main" in pod "web" is not running')


async def test_exec_to_a_dead_node_is_reported_in_band(api: Api, node: Node) -> None:
    """An unreachable agent is named on the error channel, so kubectl does not fall back to SPDY."""
    api.objects.add_node("n2", free_port(), node.server.fingerprint)
    api.objects.add_pod("ns", "web", ["main"], node="n2")
    async with asyncio.timeout(10):
        ws = await api.session.ws_connect(api.url("web", "exec", "command=sh&stdout=1"), protocols=(V5,))
        seen = await read_all(ws)
    assert "cannot reach the agent of node n2" in seen.status["message"]


async def test_spdy_is_refused_after_the_checks(api: Api, node: Node) -> None:
    """A SPDY request (kubectl's fallback) gets the same refusals first, then a clear 400."""
    api.objects.add_pod("ns", "web", ["a", "b"])
    headers = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "v4.channel.k8s.io"}
    async with api.session.post(api.url("web", "exec", "command=sh&stdout=1"), headers=headers) as r:
        assert "choose one of: [a b]" in (await r.json())["message"]
    async with api.session.post(api.url("web", "exec", "command=sh&stdout=1&container=a"), headers=headers) as r:
        status = await r.json()
    assert (r.status, status["message"]) == (400, proxying.SPDY_REFUSED)


async def test_exec_ends_when_the_agent_dies(api: Api, node: Node) -> None:
    """When the agent goes away mid-session the client learns why and is closed."""
    await node.start("ns", "web", {"main": Program((Sleep(),))})
    node.runtime.teach(("sleep", "60"), Program((Sleep(60),)))
    api.objects.add_pod("ns", "web", ["main"])
    async with asyncio.timeout(10):
        ws = await api.session.ws_connect(api.url("web", "exec", "command=sleep&command=60&stdout=1"), protocols=(V5,))
        assert await ws.receive_bytes() == b"\x01"
        await node.server.close()
        seen = await read_all(ws)
    assert "lost the connection to the agent of node n1" in seen.status["message"]
