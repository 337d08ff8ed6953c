"""The cluster DNS server: UDP and TCP port 53 on the cluster DNS address, in the node's namespace.

Services and EndpointSlices come from the agent's shared watches; their handlers only mark
the zone changed. Queries arrive on one UDP endpoint and one TCP server (2-byte length
prefix, several queries per connection, idle connections closed). Both sockets are bound
with IP_FREEBIND: the address is put on the bridge by pod networking, possibly after this
starts, and the sockets begin to receive the moment it appears. A bind that fails (the port
taken on that address) is retried, never fatal to the agent.

Invariants: a cluster name is answered inside `datagram_received`, without a task; tasks
exist only for forwarding, bounded by the forwarder; everything started here is cancelled
when `run_cluster_dns` is.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, cast

import dns.message
import dns.rcode
import structlog

from agent.dns.answering import make_reply
from agent.dns.forwarding import Forwarder, Upstreams
from agent.dns.resolving import MAX_MESSAGE, Resolver, udp_limit, wire
from agent.dns.zones import ClusterZone
from agent.network.local import LocalNode
from agent.settings import NetworkSettings
from agent.watches import SharedWatches
from edgekube.client import ENDPOINT_SLICES, SERVICES

log = structlog.get_logger(__name__)

DNS_PORT = 53
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)  # missing from some Python builds; 15 on Linux
TCP_IDLE = 10.0  # seconds a TCP client may stay silent before we close its connection
MAX_TCP_CONNECTIONS = 64
BIND_RETRY = 5.0  # seconds between attempts to bind while the port is taken


async def run_cluster_dns(*, settings: NetworkSettings, watches: SharedWatches, node: LocalNode) -> None:
    """Answer cluster names from the watched Services and EndpointSlices and forward the rest, until cancelled."""

    def view() -> tuple[Any, Any] | None:
        # Called at query time, after both watches below exist.
        if not (services.synced.is_set() and slices.synced.is_set()):
            return None
        return services.cache.values(), slices.cache.values()

    zone = ClusterZone(settings.cluster_domain, source=view)
    services = watches.watch(SERVICES, zone.changed)
    slices = watches.watch(ENDPOINT_SLICES, zone.changed)
    await serve_cluster_dns(settings=settings, zone=zone, node_name=node.name)


async def serve_cluster_dns(
    *,
    settings: NetworkSettings,
    zone: ClusterZone,
    node_name: str = "",
    port: int = DNS_PORT,
    listening: asyncio.Event | None = None,
) -> None:
    """Serve `zone` on settings.cluster_dns:`port` until cancelled; set `listening` once bound.

    The seam below `run_cluster_dns`: tests feed a zone of their own objects.
    """
    bound = log.bind(node=node_name, address=settings.cluster_dns, port=port)
    upstreams = Upstreams(settings.resolv_conf, skip={settings.cluster_dns})
    await upstreams.refresh()
    resolver = Resolver(zone, Forwarder(upstreams))
    tasks: set[asyncio.Task[None]] = set()
    udp_sock, tcp_sock = await _bind_until_done(settings.cluster_dns, port, bound)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(resolver, tasks), sock=udp_sock)
    tcp = _TcpHandler(resolver, tasks)
    server = await asyncio.start_server(tcp.serve, sock=tcp_sock)
    bound.info("cluster DNS listening", domain=settings.cluster_domain, upstreams=upstreams.servers)
    if listening is not None:
        listening.set()
    try:
        while True:
            await asyncio.sleep(settings.resync_interval)
            await upstreams.refresh()
    finally:
        transport.close()
        server.close()
        for task in list(tasks):
            task.cancel()
        for task in list(tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await server.wait_closed()


async def _bind_until_done(address: str, port: int, bound: Any) -> tuple[socket.socket, socket.socket]:
    while True:
        try:
            return _bound_socket(socket.SOCK_DGRAM, address, port), _bound_socket(socket.SOCK_STREAM, address, port)
        except OSError as err:
            bound.error("cannot bind the cluster DNS address; retrying", error=str(err), retry_in=BIND_RETRY)
            await asyncio.sleep(BIND_RETRY)


def _bound_socket(kind: socket.SocketKind, address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # FREEBIND: bind before the address exists on the bridge (it is added by pod networking).
        sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        sock.bind((address, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, resolver: Resolver, tasks: set[asyncio.Task[None]]) -> None:
        self._resolver = resolver
        self._tasks = tasks
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not always a DatagramTransport subclass (3.11's selector transport), but one in behaviour.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        parsed = self._resolver.parse(data)
        if parsed is None:
            return
        if isinstance(parsed, bytes):
            self._send(parsed, addr)
            return
        response = self._resolver.local(parsed)
        if response is None and not self._resolver.forwarder.has_room():
            response = make_reply(parsed, dns.rcode.SERVFAIL)
        if response is not None:
            self._send(wire(response, udp_limit(parsed)), addr)
            return
        task = asyncio.get_running_loop().create_task(self._forward(parsed, addr), name="dns forward")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward(self, query: dns.message.Message, addr: Any) -> None:
        try:
            response = await self._resolver.resolve(query)
        except Exception:  # one query's bug must not go unanswered silently
            log.exception("resolving failed", name=query.question[0].name.to_text())
            response = make_reply(query, dns.rcode.SERVFAIL)
        self._send(wire(response, udp_limit(query)), addr)

    def _send(self, data: bytes, addr: Any) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("udp error", error=str(exc))  # e.g. ICMP unreachable from a client that left


class _TcpHandler:
    def __init__(self, resolver: Resolver, tasks: set[asyncio.Task[None]]) -> None:
        self._resolver = resolver
        self._tasks = tasks
        self._connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # tracked so shutdown cancels connections still open
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._connections += 1
        try:
            if self._connections <= MAX_TCP_CONNECTIONS:
                await self._answer_until_idle(reader, writer)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the client went away or fell silent
        finally:
            self._connections -= 1
            writer.close()

    async def _answer_until_idle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            async with asyncio.timeout(TCP_IDLE):
                size = int.from_bytes(await reader.readexactly(2), "big")
                data = await reader.readexactly(size)
            parsed = self._resolver.parse(data)
            if parsed is None:
                continue
            if isinstance(parsed, bytes):
                reply = parsed
            else:
                reply = wire(await self._resolver.resolve(parsed), MAX_MESSAGE)
            writer.write(len(reply).to_bytes(2, "big") + reply)
            await writer.drain()
