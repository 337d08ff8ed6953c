"""The agent's exec endpoint over the fake runtime: the v5/v4 channel protocol end to end."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from agent.runtime.fake import FakeExecSession
from agent.runtime.fake_programs import CopyStdin, Exit, Program, Sleep, Write
from agent.streaming.channels import V4, V5
from tests.unit.streaming.conftest import Node
from tests.unit.streaming.frames import STDIN_CLOSED, read_all, stdin

SERVER = Program((Sleep(),))


async def connect(
    http: aiohttp.ClientSession, node: Node, query: str, protocols: tuple[str, ...] = (V5,)
) -> aiohttp.ClientWebSocketResponse:
    return await http.ws_connect(f"/exec/ns/web/main?{query}", protocols=protocols, ssl=node.pin())


async def test_output_and_success(node: Node, agent_http: aiohttp.ClientSession) -> None:
    """stdout and stderr arrive on channels 1 and 2, then a Success Status and close 1000."""
    await node.start("ns", "web", {"main": SERVER})
    node.runtime.teach(("greet",), Program((Write("out\n"), Write("err\n", "stderr"))))
    async with asyncio.timeout(10):
        ws = await connect(agent_http, node, "command=greet&stdout=true&stderr=true")
        assert ws.protocol == V5
        seen = await read_all(ws)
    assert (seen.stdout, seen.stderr, seen.status, seen.close_code) == (
        b"out\n",
        b"err\n",
        {"metadata": {}, "status": "Success"},
        1000,
    )


async def test_exit_code_is_reported(node: Node, agent_http: aiohttp.ClientSession) -> None:
    """A non-zero exit is a NonZeroExitCode Failure whose ExitCode cause kubectl exits with."""
    await node.start("ns", "web", {"main": SERVER})
    node.runtime.teach(("sh", "-c", "exit 3"), Program((Exit(3),)))
    async with asyncio.timeout(10):
        seen = await read_all(await connect(agent_http, node, "command=sh&command=-c&command=exit+3&stdout=1"))
    assert seen.status["reason"] == "NonZeroExitCode"
    assert seen.status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert seen.exit_code == 3


@pytest.mark.parametrize("protocol", [V5, V4])
async def test_stdin_reaches_the_process(node: Node, agent_http: aiohttp.ClientSession, protocol: str) -> None:
    """stdin frames reach the process; v5's close signal (or v4's closing) ends its input."""
    await node.start("ns", "web", {"main": SERVER})
    node.runtime.teach(("cat",), Program((CopyStdin(),)))
    async with asyncio.timeout(10):
        ws = await connect(agent_http, node, "command=cat&stdin=true&stdout=true", (protocol,))
        assert ws.protocol == protocol
        await ws.send_bytes(stdin(b"hello\n"))
        if protocol == V5:
            await ws.send_bytes(STDIN_CLOSED)
            seen = await read_all(ws)
            assert (seen.stdout, seen.exit_code) == (b"hello\n", 0)
        else:
            assert (await ws.receive_bytes()) == b"\x01"  # the "connected" frame
            assert (await ws.receive_bytes()) == b"\x01hello\n"
            await ws.close()


async def test_resize_frames_are_accepted(node: Node, agent_http: aiohttp.ClientSession) -> None:
    """A terminal session takes resize frames and merges stderr into stdout."""
    await node.start("ns", "web", {"main": SERVER})
    node.runtime.teach(("sh",), Program((CopyStdin(), Write("bye\n", "stderr"))))
    async with asyncio.timeout(10):
        ws = await connect(agent_http, node, "command=sh&stdin=true&stdout=true&stderr=true&tty=true")
        await ws.send_bytes(b"\x04" + json.dumps({"Width": 100, "Height": 30}).encode())
        await ws.send_bytes(stdin(b"ls\n"))
        await ws.send_bytes(STDIN_CLOSED)
        seen = await read_all(ws)
    assert (seen.stdout, seen.stderr, seen.exit_code) == (b"ls\nbye\n", b"", 0)


async def test_client_leaving_ends_the_input(
    node: Node, agent_http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that disconnects mid-session gets the process end-of-input, then the session is released."""
    await node.start("ns", "web", {"main": SERVER})
    node.runtime.teach(("sh",), Program((CopyStdin(),)))
    calls: list[str] = []
    released = asyncio.Event()
    close_stdin, close = FakeExecSession.close_stdin, FakeExecSession.close

    async def recorded_close_stdin(self: FakeExecSession) -> None:
        calls.append("close_stdin")
        await close_stdin(self)

    async def recorded_close(self: FakeExecSession) -> None:
        calls.append("close")
        await close(self)
        released.set()

    monkeypatch.setattr(FakeExecSession, "close_stdin", recorded_close_stdin)
    monkeypatch.setattr(FakeExecSession, "close", recorded_close)
    async with asyncio.timeout(10):
        ws = await connect(agent_http, node, "command=sh&stdin=true&stdout=true")
        await ws.send_bytes(stdin(b"x\n"))
        assert await ws.receive_bytes() == b"\x01"
        assert await ws.receive_bytes() == b"\x01x\n"
        await ws.close()
        await released.wait()
    assert calls == ["close_stdin", "close"]


@pytest.mark.parametrize(
    ("query", "protocols", "code", "message"),
    [
        ("command=sh&stdout=1", (), 400, "exec needs a WebSocket with subprotocol"),
        ("command=sh&stdout=1", ("channel.k8s.io",), 400, "the request offered channel.k8s.io"),
        ("stdout=1", (V5,), 400, "at least one command"),
        ("command=sh", (V5,), 400, "at least one of stdin, stdout, stderr"),
    ],
)
async def test_refused_upgrades_carry_a_status(
    node: Node, agent_http: aiohttp.ClientSession, query: str, protocols: tuple[str, ...], code: int, message: str
) -> None:
    """A refused upgrade answers a Status, repeated in a header that WebSocket clients keep."""
    await node.start("ns", "web", {"main": SERVER})
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await connect(agent_http, node, query, protocols)
    assert caught.value.status == code
    assert caught.value.headers is not None
    status = json.loads(caught.value.headers["X-EdgeKube-Status"])
    assert message in status["message"]


async def test_exec_needs_a_running_container(node: Node, agent_http: aiohttp.ClientSession) -> None:
    """An exited container is refused before the upgrade, with the reason."""
    await node.start("ns", "web", {"main": Program((Exit(0),))})
    await asyncio.sleep(0.05)
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await connect(agent_http, node, "command=sh&stdout=1")
    assert caught.value.headers is not None
    assert "is not running" in json.loads(caught.value.headers["X-EdgeKube-Status"])["message"]
