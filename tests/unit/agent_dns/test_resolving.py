"""Query bytes to response bytes without sockets: the zone's rebuilds, refusals, truncation."""

from __future__ import annotations

from typing import Any

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from agent.dns.forwarding import Forwarder, Upstreams
from agent.dns.resolving import Resolver, udp_limit, wire
from agent.dns.zones import ClusterZone
from tests.unit.agent_dns.objects import SERVICES, SLICES, endpoint, endpoint_slice, service

Obj = dict[str, Any]


class Caches:
    """Stands in for the two watch caches: None until 'synced'."""

    def __init__(self) -> None:
        self.services: dict[str, Obj] | None = None
        self.slices: dict[str, Obj] = {}

    def view(self) -> tuple[Any, Any] | None:
        return None if self.services is None else (self.services.values(), self.slices.values())


def resolver_for(zone: ClusterZone) -> Resolver:
    return Resolver(zone, Forwarder(Upstreams("/nonexistent", skip=set())))


def query_a(name: str) -> dns.message.Message:
    return dns.message.make_query(name, "A")


def test_zone_rebuilds_once_per_burst_and_keeps_records_offline() -> None:
    """Events only mark the zone; one rebuild follows, and a source gone quiet keeps the last records."""
    caches = Caches()
    zone = ClusterZone("cluster.local", caches.view)
    assert zone.records() is None
    caches.services = {"default/web": SERVICES[1]}
    first = zone.records()
    assert first is not None and zone.builds == 1
    for _ in range(50):
        zone.changed("MODIFIED", SERVICES[1])
    assert zone.records() is not first and zone.builds == 2
    assert zone.records() is zone.records() and zone.builds == 2
    caches.services = None  # e.g. a watcher that lost its view: the last records stay
    zone.changed()
    assert zone.records() is not None


def test_local_answers_and_what_waits() -> None:
    """Cluster names are answered at once; outside names and ExternalName chases are left to resolve()."""
    zone = ClusterZone("cluster.local", lambda: (SERVICES, SLICES))
    resolver = resolver_for(zone)
    local = resolver.local(query_a("web.default.svc.cluster.local."))
    assert local is not None and local.rcode() == dns.rcode.NOERROR
    assert resolver.local(query_a("example.com.")) is None
    assert resolver.local(query_a("ext.default.svc.cluster.local.")) is None


@pytest.mark.parametrize(
    ("opcode", "questions", "rcode"),
    [(dns.opcode.NOTIFY, 1, dns.rcode.NOTIMP), (dns.opcode.QUERY, 2, dns.rcode.FORMERR)],
)
def test_unsupported_queries_are_refused(opcode: dns.opcode.Opcode, questions: int, rcode: dns.rcode.Rcode) -> None:
    """Other opcodes get NOTIMP and several questions FORMERR, without forwarding."""
    query = query_a("web.default.svc.cluster.local.")
    query.set_opcode(opcode)
    if questions == 2:
        query.question.append(query_a("example.com.").question[0])
    response = resolver_for(ClusterZone("cluster.local", lambda: (SERVICES, SLICES))).local(query)
    assert response is not None and response.rcode() == rcode


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x12\x34\x01\x00", None),  # too short for a header
        (b"\x12\x34\x81\x80" + bytes(8), None),  # a response: never answered
        (b"\x12\x34\x01\x00\x00\x01" + bytes(6) + b"\x05bro", b"\x12\x34\x81\x01" + bytes(8)),  # FORMERR
    ],
)
def test_malformed_queries(data: bytes, expected: bytes | None) -> None:
    """Garbage is dropped, or answered FORMERR with the same id when the header is readable."""
    assert resolver_for(ClusterZone("cluster.local", lambda: ([], []))).parse(data) == expected


def test_large_answers_are_truncated_for_udp() -> None:
    """A headless answer too big for 512 bytes goes out with TC and empty sections, whole over TCP."""
    many = [endpoint(f"10.42.1.{i}") for i in range(1, 60)]
    zone = ClusterZone(
        "cluster.local", lambda: ([service("big", "many", "None")], [endpoint_slice("big", "many", many, [])])
    )
    query = query_a("many.big.svc.cluster.local.")
    response = resolver_for(zone).local(query)
    assert response is not None
    small = dns.message.from_wire(wire(response, udp_limit(query)))
    assert small.flags & dns.flags.TC and not small.answer
    response = resolver_for(zone).local(query)
    assert response is not None
    full = dns.message.from_wire(wire(response, 65535))
    assert not full.flags & dns.flags.TC and len(full.answer[0]) == 59


@pytest.mark.parametrize(("edns", "payload", "limit"), [(-1, 0, 512), (0, 1232, 1232), (0, 100, 512)])
def test_udp_limit(edns: int, payload: int, limit: int) -> None:
    """UDP responses fit 512 bytes, or the client's EDNS payload size when it sent one."""
    query = query_a("example.com.")
    query.use_edns(edns, payload=payload or 512)
    assert udp_limit(query) == limit
