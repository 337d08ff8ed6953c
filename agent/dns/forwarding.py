"""Forwarding names outside the cluster to the node's resolvers, with bounded waiting.

The upstreams are the nameservers of the node's resolv.conf, less the cluster DNS address
itself (a node whose resolv.conf names it would otherwise send queries to itself forever).
Each upstream gets one UDP try with a short timeout; a truncated answer is asked again over
TCP; SERVFAIL or REFUSED moves on to the next. The one that answered last is tried first
next time, so one dead resolver costs one timeout, not one per query.

Bounds: at most `max_in_flight` queries wait on upstreams at once (more get SERVFAIL at once,
so a dead upstream cannot pile up tasks), and each query gives up after `deadline` seconds.
The agent forwards from the node's namespace, so upstreams on 127.x (systemd-resolved) work.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import structlog

from agent.dns.answering import make_reply
from agent.dns.resolvconfs import parse_resolv_conf

log = structlog.get_logger(__name__)

TRY_TIMEOUT = 2.0  # seconds one upstream gets before the next is tried
DEADLINE = 5.0  # seconds a forwarded query may take in all (a client's own timeout is ~5 s)
MAX_IN_FLIGHT = 128
RETRY_NEXT = (dns.rcode.SERVFAIL, dns.rcode.REFUSED, dns.rcode.NOTIMP)


class Upstreams:
    """The nameservers of a resolv.conf, re-read when the file changes."""

    def __init__(self, path: str, *, skip: set[str]) -> None:
        self.path = path
        self._skip = skip
        self._stamp: tuple[int, int] | None = None
        self.servers: list[str] = []

    async def refresh(self) -> None:
        """Read the file again if it changed (blocking IO off the loop)."""
        try:
            found = await asyncio.to_thread(self._read_if_changed)
        except OSError as err:
            log.warning("cannot read upstream resolvers", path=self.path, error=str(err))
            return
        if found is not None and found != self.servers:
            self.servers = found
            log.info("upstream resolvers", path=self.path, servers=found)

    def _read_if_changed(self) -> list[str] | None:
        stat = os.stat(self.path)
        stamp = (stat.st_mtime_ns, stat.st_ino)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        servers = parse_resolv_conf(Path(self.path).read_text()).nameservers
        return [s for s in servers if s not in self._skip]


class Forwarder:
    def __init__(
        self,
        upstreams: Upstreams,
        *,
        try_timeout: float = TRY_TIMEOUT,
        deadline: float = DEADLINE,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._upstreams = upstreams
        self._try_timeout = try_timeout
        self._deadline = deadline
        self._max_in_flight = max_in_flight
        self.in_flight = 0
        self._preferred = ""

    def has_room(self) -> bool:
        return self.in_flight < self._max_in_flight

    async def forward(self, query: dns.message.Message) -> dns.message.Message:
        """The first usable upstream answer to `query`, or SERVFAIL when none comes in time."""
        if not self.has_room():
            return make_reply(query, dns.rcode.SERVFAIL)
        self.in_flight += 1
        last: dns.message.Message | None = None
        try:
            async with asyncio.timeout(self._deadline):
                for server in self._order():
                    response = await self._ask(server, query)
                    if response is None:
                        continue
                    if response.rcode() in RETRY_NEXT:
                        last = response
                        continue
                    self._preferred = server
                    return response
        except TimeoutError:
            log.debug("forwarding deadline passed", name=query.question[0].name.to_text())
        finally:
            self.in_flight -= 1
        return last if last is not None else make_reply(query, dns.rcode.SERVFAIL)

    def _order(self) -> list[str]:
        servers = list(self._upstreams.servers)
        if self._preferred in servers:
            servers.remove(self._preferred)
            servers.insert(0, self._preferred)
        return servers

    async def _ask(self, server: str, query: dns.message.Message) -> dns.message.Message | None:
        try:
            response = await dns.asyncquery.udp(query, server, timeout=self._try_timeout, ignore_unexpected=True)
            if response.flags & dns.flags.TC:
                response = await dns.asyncquery.tcp(query, server, timeout=self._try_timeout)
        except (dns.exception.DNSException, OSError, ValueError) as err:
            log.debug("upstream failed", server=server, error=repr(err))
            return None
        return response
