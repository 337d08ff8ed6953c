"""`GET /exec/{namespace}/{pod}/{container}` (WebSocket): `kubectl exec` on this node.

Query parameters are those of `pods/exec`: `command` (repeated, one per argv word),
`stdin`, `stdout`, `stderr`, `tty`. The WebSocket speaks `agent.streaming.channels`, the
protocol kubectl speaks, so the API server splices the two connections frame by frame.

Order of a session: check the request, the container and the subprotocol; start the
process (every refusal so far is a plain HTTP Status); upgrade; relay until the output
ends; send the exit Status on the error channel; close with 1000. If the client goes
first, the process gets end-of-input (a shell then exits) and the session is released.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import WSMsgType, web
from multidict import MultiMapping

from agent.runtime.errors import ContainerRuntimeError
from agent.runtime.interface import ContainerState, ExecSession, Runtime
from agent.streaming import channels, statuses
from agent.streaming.channels import Channel
from agent.streaming.lookups import ContainerLookup, resolve
from agent.streaming.tailing import query_flag

log = structlog.get_logger(__name__)

WEBSOCKETS = web.AppKey("websockets", set[web.WebSocketResponse])
CLOSE_TIMEOUT = 5.0
"""Seconds to wait for the client's answer to our close frame."""


@dataclass(frozen=True)
class ExecOptions:
    command: tuple[str, ...]
    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False


def exec_options(query: MultiMapping[str]) -> ExecOptions:
    command = tuple(query.getall("command", ()))
    if not command:
        raise statuses.bad_request("you must specify at least one command for the container")
    flags: Mapping[str, str] = {k: query[k] for k in ("stdin", "stdout", "stderr", "tty") if k in query}
    stdin, stdout, stderr, tty = (query_flag(flags, k) for k in ("stdin", "stdout", "stderr", "tty"))
    if not (stdin or stdout or stderr):
        raise statuses.bad_request("you must specify at least one of stdin, stdout, stderr")
    # A terminal has one output: what the process writes to stderr arrives on stdout.
    return ExecOptions(command, stdin=stdin, stdout=stdout, stderr=stderr and not tty, tty=tty)


async def exec_in_container(request: web.Request, *, runtime: Runtime, lookup: ContainerLookup) -> web.StreamResponse:
    namespace, pod, container = (request.match_info[k] for k in ("namespace", "pod", "container"))
    options = exec_options(request.query)
    offered = channels.offered_protocols(request.headers.get("Sec-WebSocket-Protocol"))
    protocol = channels.negotiate(offered)
    if protocol is None:
        raise statuses.bad_request(
            f"exec needs a WebSocket with subprotocol {' or '.join(channels.PROTOCOLS)}; "
            f"the request offered {', '.join(offered) or 'none'}"
        )
    ws = web.WebSocketResponse(protocols=(protocol,), autoping=True, timeout=CLOSE_TIMEOUT)
    if not ws.can_prepare(request).ok:
        raise statuses.bad_request("exec needs a WebSocket upgrade (GET with Upgrade: websocket)")
    status = await resolve(runtime, lookup, namespace, pod, container, previous=False)
    if status.state is not ContainerState.RUNNING:
        raise statuses.bad_request(f'container "{container}" in pod "{pod}" is not running ({status.state})')
    try:
        session = await runtime.exec(status.id, options.command, stdin=options.stdin, tty=options.tty)
    except ContainerRuntimeError as err:
        raise statuses.internal(f'cannot exec in container "{container}" of pod "{pod}": {err}') from err
    bound = log.bind(pod=f"{namespace}/{pod}", container=container, command=list(options.command))
    open_sockets = request.app[WEBSOCKETS]
    try:
        await ws.prepare(request)
        open_sockets.add(ws)
        await Bridge(ws, session, options, protocol).run()
    except ConnectionResetError:
        bound.info("exec client went away")
    finally:
        open_sockets.discard(ws)
        await session.close()
    return ws


class Bridge:
    """One exec session between a process and a WebSocket client."""

    def __init__(self, ws: web.WebSocketResponse, session: ExecSession, options: ExecOptions, protocol: str) -> None:
        self.ws = ws
        self.session = session
        self.options = options
        self.protocol = protocol
        self.stdin_open = options.stdin

    async def run(self) -> None:
        await self.ws.send_bytes(channels.frame(self._first_channel()))  # "connected", as the kubelet says it
        output = asyncio.create_task(self._relay_output(), name="exec-output")
        client = asyncio.create_task(self._read_client(), name="exec-input")
        try:
            await asyncio.wait({output, client}, return_when=asyncio.FIRST_COMPLETED)
            if output.done():
                # Stop reading first: a close() while another task waits in receive() drops
                # the connection without waiting for the client's close frame.
                await _stop(client)
                await self._finish(output)
            else:
                await self.close_stdin()  # the client left without saying so: end the input anyway
        finally:
            await _stop(output)
            await _stop(client)

    def _first_channel(self) -> Channel:
        if self.options.stdout:
            return Channel.STDOUT
        return Channel.STDERR if self.options.stderr else Channel.ERROR

    async def _relay_output(self) -> int:
        async for chunk in self.session.output():
            channel = Channel.STDERR if chunk.stream == "stderr" and not self.options.tty else Channel.STDOUT
            wanted = self.options.stdout if channel is Channel.STDOUT else self.options.stderr
            if wanted and chunk.data:
                await self.ws.send_bytes(channels.frame(channel, chunk.data))
        return await self.session.wait()

    async def _finish(self, output: asyncio.Task[int]) -> None:
        try:
            status = channels.exit_status(output.result(), self.options.command)
        except ContainerRuntimeError as err:
            status = channels.failure_status(f"exec failed: {err}")
        await self.ws.send_bytes(channels.status_frame(status))
        await self.ws.close()

    async def _read_client(self) -> None:
        async for message in self.ws:
            if message.type is WSMsgType.BINARY:
                await self._on_message(message.data)
            elif message.type is WSMsgType.ERROR:
                return

    async def _on_message(self, data: bytes) -> None:
        parsed = channels.split(data)
        if parsed is None:
            return
        channel, payload = parsed
        if channel == Channel.STDIN and self.stdin_open and payload:
            try:
                await self.session.write(payload)
            except (OSError, ContainerRuntimeError) as err:
                log.info("exec stdin closed by the process", error=str(err))
                self.stdin_open = False
        elif channel == Channel.RESIZE and self.options.tty:
            for size in channels.sizes(payload):
                try:
                    await self.session.resize(size.width, size.height)
                except ContainerRuntimeError as err:  # the process may be gone already; not fatal
                    log.debug("exec resize failed", error=str(err))
        elif channel == Channel.CLOSE and self.protocol == channels.V5 and payload[:1] == bytes((Channel.STDIN,)):
            await self.close_stdin()

    async def close_stdin(self) -> None:
        if self.stdin_open:
            self.stdin_open = False
            with contextlib.suppress(OSError, ContainerRuntimeError):
                await self.session.close_stdin()


async def _stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, ConnectionResetError, ContainerRuntimeError):
        await task


async def close_websockets(app: web.Application) -> None:
    """On shutdown: end open exec sessions now rather than after the shutdown timeout."""
    sockets: set[web.WebSocketResponse] = app[WEBSOCKETS]
    for ws in list(sockets):
        await ws.close(code=1001, message=b"the node agent is stopping")
