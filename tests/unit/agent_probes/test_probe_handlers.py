"""Probe handlers against local servers (also through the setns thread) and the fake runtime."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.probes import ProbeTarget, handler_for
from agent.probes.handlers import parse_status_line, resolve_port
from agent.probes.netns import run_in_netns
from agent.runtime.fake import FakeRuntime
from agent.runtime.fake_programs import Exit, Program, Sleep, Write
from agent.runtime.interface import ContainerId, ContainerSpec, PodSandboxSpec

OWN_NETNS = "/proc/self/ns/net"
"""Entering the agent's own namespace exercises the setns path without a pod."""

pytestmark = pytest.mark.timeout(20)


class Server:
    """A tiny HTTP server on 127.0.0.1 that answers each request's path as its status code."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._release = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        path = head.split(b" ")[1].decode()
        if path == "/hang":
            await self._release.wait()
        code = int(path.strip("/hang") or "200")
        writer.write(f"HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._release.set()
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with Server() as s:
        yield s


def target(netns: str | None, **ports: int) -> ProbeTarget:
    return ProbeTarget(FakeRuntime(), ContainerId("c"), netns_path=netns, ports=ports)


@pytest.mark.parametrize("netns", [None, OWN_NETNS])
@pytest.mark.parametrize(
    ("path", "ok"), [("/200", True), ("/302", True), ("/399", True), ("/500", False), ("/404", False)]
)
async def test_http_status_codes(server: Server, netns: str | None, path: str, ok: bool) -> None:
    """200-399 is success, anything else failure with the status code in the message."""
    result = await handler_for({"httpGet": {"path": path, "port": server.port}}).check(target(netns), 2)
    assert result.success is ok
    if not ok:
        assert result.message == f"HTTP probe failed with statuscode: {path[1:]}"


async def test_http_request_shape(server: Server) -> None:
    """Host, user agent and custom headers are sent; a custom Host replaces the default; ports by name."""
    probe = {
        "httpGet": {
            "path": "/204",
            "port": "web",
            "httpHeaders": [{"name": "X-Probe", "value": "yes"}, {"name": "Host", "value": "app.local"}],
        }
    }
    result = await handler_for(probe).check(target(OWN_NETNS, web=server.port), 2)
    assert result.success
    head = server.requests[0].decode()
    assert head.startswith("GET /204 HTTP/1.1\r\n")
    assert "X-Probe: yes" in head and "Host: app.local" in head and f"127.0.0.1:{server.port}" not in head
    assert "User-Agent: kube-probe/" in head


async def test_http_timeout(server: Server) -> None:
    """A server that does not answer within timeoutSeconds fails the probe."""
    result = await handler_for({"httpGet": {"path": "/hang", "port": server.port}}).check(target(OWN_NETNS), 0.3)
    assert not result.success and "deadline" in result.message


async def test_refused_and_unknown_port() -> None:
    """Nothing listening, or an unknown port name, fails with a clear message."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    refused = await handler_for({"httpGet": {"port": free}}).check(target(OWN_NETNS), 1)
    assert not refused.success and "refused" in refused.message
    unknown = await handler_for({"tcpSocket": {"port": "nope"}}).check(target(None), 1)
    assert not unknown.success and "named port" in unknown.message


@pytest.mark.parametrize("netns", [None, OWN_NETNS])
async def test_tcp_socket(server: Server, netns: str | None) -> None:
    """tcpSocket succeeds when something accepts on the port."""
    assert (await handler_for({"tcpSocket": {"port": server.port}}).check(target(netns), 1)).success


async def test_grpc_is_unsupported() -> None:
    """gRPC probes fail with a message that says so."""
    result = await handler_for({"grpc": {"port": 9000}}).check(target(None), 1)
    assert not result.success and "gRPC probes are not supported" in result.message


async def test_exec_probes_on_the_fake_runtime() -> None:
    """exec: exit 0 is success, another code failure with the output, a slow command times out."""
    fake = FakeRuntime(images=["img"])
    fake.teach(["ok"], Program())
    fake.teach(["bad"], Program((Write("not healthy\n"), Exit(3))))
    fake.teach(["slow"], Program((Sleep(10),)))
    sandbox_spec = PodSandboxSpec(uid="u", namespace="n", name="p")
    sandbox = await fake.create_pod_sandbox(sandbox_spec)
    container = await fake.create_container(sandbox.id, ContainerSpec(name="c", image="img"), sandbox_spec)
    await fake.start_container(container)
    t = ProbeTarget(fake, container)
    assert (await handler_for({"exec": {"command": ["ok"]}}).check(t, 1)).success
    bad = await handler_for({"exec": {"command": ["bad"]}}).check(t, 1)
    assert not bad.success and "exited with 3" in bad.message and "not healthy" in bad.message
    slow = await handler_for({"exec": {"command": ["slow"]}}).check(t, 0.1)
    assert not slow.success and "timed out" in slow.message
    await fake.remove_pod_sandbox(sandbox.id)


async def test_netns_thread_returns_to_its_namespace() -> None:
    """Work runs in a thread of its own; the event loop's thread never changes namespace."""
    import os

    before = os.readlink("/proc/thread-self/ns/net")
    seen: list[Any] = []
    await run_in_netns(OWN_NETNS, lambda: seen.append(threading.current_thread().name))
    assert seen == ["probe-netns"]
    assert os.readlink("/proc/thread-self/ns/net") == before


@pytest.mark.parametrize(
    ("line", "code"), [(b"HTTP/1.1 200 OK\r\n", 200), (b"HTTP/1.0 503 Busy\r\n", 503), (b"HTTP/1.1 204\r\n", 204)]
)
def test_parse_status_line(line: bytes, code: int) -> None:
    """The status code comes from an HTTP/1.x status line."""
    assert parse_status_line(line) == code


def test_parse_status_line_rejects_garbage() -> None:
    """Anything else is a ValueError (a failed probe)."""
    with pytest.raises(ValueError):
        parse_status_line(b"SSH-2.0-OpenSSH\r\n")


def test_resolve_port() -> None:
    """Numbers, digit strings and named ports resolve; out-of-range ones do not."""
    t = target(None, http=8080)
    assert [resolve_port(p, t) for p in (80, "81", "http")] == [80, 81, 8080]
    with pytest.raises(ValueError):
        resolve_port(70000, t)
