"""Splicing two remote-command WebSockets: kubectl's and the node agent's.

Both speak the Kubernetes channel protocol (`v5.channel.k8s.io`: a channel byte, then
data), so frames are relayed as they are, in both directions. The API server reads no
stream data; it only ends the splice:

- the agent closes normally (after the exit Status on the error channel): close kubectl's
  side normally too;
- the agent's side breaks (node down, agent killed): tell kubectl on the error channel,
  then close, so kubectl prints the reason instead of a bare "connection closed";
- kubectl goes away: close the agent's side, which ends the process's input.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import orjson
from aiohttp import WSCloseCode, WSMsgType, web

ERROR_CHANNEL = 3
"""The channel of the Status that ends a session."""

WebSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


def failure_frame(message: str) -> bytes:
    """An error-channel Status that kubectl prints as `error: <message>` (exit code 1)."""
    status = {"metadata": {}, "status": "Failure", "message": message}
    return bytes((ERROR_CHANNEL,)) + orjson.dumps(status)


async def fail(client: web.WebSocketResponse, message: str) -> None:
    """End a session that cannot run, after the upgrade: the reason goes on the error channel."""
    with contextlib.suppress(ConnectionResetError):
        await client.send_bytes(failure_frame(message))
        await client.close()


async def _pump(source: WebSocket, sink: WebSocket) -> bool:
    """Relay until `source` ends; True if it sent the closing Status (or closed with 1000)."""
    finished = False
    async for message in source:
        if message.type is WSMsgType.BINARY:
            finished = finished or message.data[:1] == bytes((ERROR_CHANNEL,))
            await sink.send_bytes(message.data)
        elif message.type is WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type is WSMsgType.ERROR:
            return finished
    return finished or source.close_code == WSCloseCode.OK


async def splice(client: web.WebSocketResponse, agent: aiohttp.ClientWebSocketResponse, *, node: str) -> None:
    """Relay until one side ends; then end the other as the module docstring says."""
    upstream = asyncio.create_task(_pump(client, agent), name="exec-to-agent")
    downstream = asyncio.create_task(_pump(agent, client), name="exec-from-agent")
    try:
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        if downstream.done():
            # Stop reading kubectl's side first: closing while another task waits in
            # receive() would drop the connection without the close handshake.
            await _stop(upstream)
            if _finished(downstream):
                with contextlib.suppress(ConnectionResetError):
                    await client.close()
            else:
                await fail(client, f"lost the connection to the agent of node {node} (code {agent.close_code})")
        else:
            await _stop(downstream)
            await agent.close()
    finally:
        await _stop(upstream)
        await _stop(downstream)


def _finished(task: asyncio.Task[bool]) -> bool:
    return not task.cancelled() and task.exception() is None and task.result()


async def _stop(task: asyncio.Task[bool]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, ConnectionResetError, aiohttp.ClientError):
        await task
