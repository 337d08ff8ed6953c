"""From query bytes to response bytes: cluster names locally, the rest through the forwarder.

`local()` answers what needs no waiting (cluster names, malformed or unsupported queries)
synchronously, so a UDP datagram of a cluster lookup is answered without creating a task.
`resolve()` does the rest: forwarding, and chasing an ExternalName's target outside the
cluster domain upstream. `wire()` fits a response into what the client can take: over UDP
512 bytes or its EDNS payload size; what does not fit goes out truncated (TC), and the client
asks again over TCP.
"""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import structlog

from agent.dns.answering import answer_locally, external_tail, make_reply
from agent.dns.forwarding import Forwarder
from agent.dns.zones import ClusterZone

log = structlog.get_logger(__name__)

UDP_MIN = 512
MAX_MESSAGE = 65535


class Resolver:
    def __init__(self, zone: ClusterZone, forwarder: Forwarder) -> None:
        self.zone = zone
        self.forwarder = forwarder

    def parse(self, data: bytes) -> dns.message.Message | bytes | None:
        """The query in `data`; or a ready FORMERR reply; or None when nothing should be sent."""
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            if len(data) < 12 or data[2] & 0x80:
                return None  # no header to answer, or a response: never answer those
            # The header is enough for FORMERR: same id, QR set, rcode 1.
            return data[:2] + bytes([0x80 | (data[2] & 0x01), 0x01]) + bytes(8)
        if query.flags & dns.flags.QR:
            return None
        return query

    def local(self, query: dns.message.Message) -> dns.message.Message | None:
        """The response when it is known without waiting, else None (call `resolve`)."""
        response = _refusal(query) or self._answer(query)
        if response is not None and external_tail(response, self.zone.domain) is not None:
            return None
        return response

    async def resolve(self, query: dns.message.Message) -> dns.message.Message:
        """The full response: local, forwarded, or a local CNAME chased upstream."""
        response = _refusal(query) or self._answer(query)
        if response is None:
            return await self.forwarder.forward(query)
        target = external_tail(response, self.zone.domain)
        if target is not None:
            question = query.question[0]
            chased = await self.forwarder.forward(dns.message.make_query(target, question.rdtype, question.rdclass))
            response.answer.extend(chased.answer)
            if chased.rcode() != dns.rcode.NOERROR:
                response.set_rcode(chased.rcode())
        return response

    def _answer(self, query: dns.message.Message) -> dns.message.Message | None:
        return answer_locally(query, domain=self.zone.domain, records=self.zone.records())


def _refusal(query: dns.message.Message) -> dns.message.Message | None:
    """The error reply for what we do not serve: other opcodes, not exactly one question."""
    if query.opcode() != dns.opcode.QUERY:
        return make_reply(query, dns.rcode.NOTIMP)
    if len(query.question) != 1:
        return make_reply(query, dns.rcode.FORMERR)
    return None


def udp_limit(query: dns.message.Message | None) -> int:
    """How large a UDP response `query`'s sender accepts: 512, or its EDNS payload size."""
    if query is None or query.edns < 0:
        return UDP_MIN
    return max(UDP_MIN, min(query.payload, MAX_MESSAGE))


def wire(response: dns.message.Message, limit: int) -> bytes:
    """`response` as bytes of at most `limit`; truncated (TC, sections emptied) when larger."""
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)
