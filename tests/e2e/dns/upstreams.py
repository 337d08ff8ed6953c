"""A tiny fake upstream resolver on a loopback address inside the test namespace.

    *.example.test A     198.51.100.7 (documentation range; never contacted), other types NODATA
    big.example.test TXT 40 strings, too big for 512 bytes: UDP answers truncated, TCP whole
    silent names         no answer at all (a dead upstream, without ICMP errors)
    anything else        NXDOMAIN
Counts the queries it got by transport, so tests see where the forwarder went.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, cast

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

ADDRESS = "198.51.100.7"


class FakeUpstream:
    def __init__(self, address: str, *, silent: bool = False) -> None:
        self.address = address
        self.silent = silent
        self.queries: Counter[str] = Counter()
        self.names: list[str] = []
        self._transport: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None

    async def start(self) -> FakeUpstream:
        loop = asyncio.get_running_loop()
        upstream = self

        class Protocol(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                upstream._transport = cast(asyncio.DatagramTransport, transport)

            def datagram_received(self, data: bytes, addr: Any) -> None:
                reply = upstream.answer(data, "udp")
                if reply is not None and upstream._transport is not None:
                    upstream._transport.sendto(reply, addr)

        await loop.create_datagram_endpoint(Protocol, local_addr=(self.address, 53))
        self._server = await asyncio.start_server(self._tcp, self.address, 53)
        return self

    async def _tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            size = int.from_bytes(await reader.readexactly(2), "big")
            reply = self.answer(await reader.readexactly(size), "tcp")
            if reply is not None:
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        finally:
            writer.close()

    def answer(self, data: bytes, transport: str) -> bytes | None:
        query = dns.message.from_wire(data)
        self.queries[transport] += 1
        name = query.question[0].name.to_text().lower()
        self.names.append(name)
        if self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if name == "big.example.test.":
            texts = [f'"{i:02d}-{"x" * 40}"' for i in range(40)]
            response.answer.append(dns.rrset.from_text_list(name, 60, "IN", "TXT", texts))
        elif name.endswith(".example.test."):
            if query.question[0].rdtype == dns.rdatatype.A:
                response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", ADDRESS))
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        limit = 65535 if transport == "tcp" else 512
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer.clear()
            response.flags |= dns.flags.TC
            return response.to_wire()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        if self._server is not None:
            self._server.close()
