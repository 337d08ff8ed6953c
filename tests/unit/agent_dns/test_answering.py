"""Cluster names answered from Services and EndpointSlices, with dnspython messages in memory."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from agent.dns.answering import TTL, answer_locally, external_tail
from agent.dns.records import ClusterRecords, build_records, cluster_domain_name
from tests.unit.agent_dns.objects import SERVICES, SLICES

DOMAIN = cluster_domain_name("cluster.local")
RECORDS = build_records(SERVICES, SLICES, domain="cluster.local")
NOERROR, NXDOMAIN, SERVFAIL = dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL


def ask(name: str, rdtype: str = "A", records: ClusterRecords | None = RECORDS) -> dns.message.Message | None:
    query = dns.message.make_query(name, rdtype)
    return answer_locally(query, domain=DOMAIN, records=records)


def answers(response: dns.message.Message) -> set[str]:
    """'owner TYPE data' of every answer record (order-free: A records are shuffled)."""
    return {
        f"{rrset.name.to_text().lower()} {dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}"
        for rrset in response.answer
        for rd in rrset
    }


CASES = [
    ("web.default.svc.cluster.local.", "A", NOERROR, {"web.default.svc.cluster.local. A 10.43.0.20"}),
    ("WEB.Default.svc.cluster.local.", "A", NOERROR, {"web.default.svc.cluster.local. A 10.43.0.20"}),
    ("kubernetes.default.svc.cluster.local.", "A", NOERROR, {"kubernetes.default.svc.cluster.local. A 10.43.0.1"}),
    ("web.default.svc.cluster.local.", "AAAA", NOERROR, set()),
    ("web.default.svc.cluster.local.", "MX", NOERROR, set()),
    ("nope.default.svc.cluster.local.", "A", NXDOMAIN, set()),
    ("web.default.svc.cluster.local.default.svc.cluster.local.", "A", NXDOMAIN, set()),
    ("web.other.svc.cluster.local.", "A", NXDOMAIN, set()),
    ("default.svc.cluster.local.", "A", NOERROR, set()),  # an empty non-terminal exists
    ("svc.cluster.local.", "A", NOERROR, set()),
    ("cluster.local.", "A", NOERROR, set()),
    ("pending.default.svc.cluster.local.", "A", NXDOMAIN, set()),  # no ClusterIP yet
    (
        "_http._tcp.web.default.svc.cluster.local.",
        "SRV",
        NOERROR,
        {"_http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local."},
    ),
    (
        "_dns._udp.dnsudp.default.svc.cluster.local.",
        "SRV",
        NOERROR,
        {"_dns._udp.dnsudp.default.svc.cluster.local. SRV 0 100 53 dnsudp.default.svc.cluster.local."},
    ),
    ("_http._udp.web.default.svc.cluster.local.", "SRV", NXDOMAIN, set()),
    ("_tcp.web.default.svc.cluster.local.", "SRV", NOERROR, set()),  # empty non-terminal
    (
        "db.prod.svc.cluster.local.",
        "A",
        NOERROR,
        {"db.prod.svc.cluster.local. A 10.42.0.5", "db.prod.svc.cluster.local. A 10.42.0.7"},
    ),
    ("db-0.db.prod.svc.cluster.local.", "A", NOERROR, {"db-0.db.prod.svc.cluster.local. A 10.42.0.5"}),
    ("db-1.db.prod.svc.cluster.local.", "A", NXDOMAIN, set()),  # not ready
    ("10-42-0-7.db.prod.svc.cluster.local.", "A", NOERROR, {"10-42-0-7.db.prod.svc.cluster.local. A 10.42.0.7"}),
    (
        "_pg._tcp.db.prod.svc.cluster.local.",
        "SRV",
        NOERROR,
        {
            "_pg._tcp.db.prod.svc.cluster.local. SRV 0 100 5432 db-0.db.prod.svc.cluster.local.",
            "_pg._tcp.db.prod.svc.cluster.local. SRV 0 100 5432 10-42-0-7.db.prod.svc.cluster.local.",
        },
    ),
    ("empty.prod.svc.cluster.local.", "A", NOERROR, set()),  # headless without endpoints still exists
    ("ext.default.svc.cluster.local.", "A", NOERROR, {"ext.default.svc.cluster.local. CNAME example.com."}),
    ("ext.default.svc.cluster.local.", "CNAME", NOERROR, {"ext.default.svc.cluster.local. CNAME example.com."}),
    (
        "alias.default.svc.cluster.local.",
        "A",
        NOERROR,
        {
            "alias.default.svc.cluster.local. CNAME web.default.svc.cluster.local.",
            "web.default.svc.cluster.local. A 10.43.0.20",
        },
    ),
    ("loop-a.default.svc.cluster.local.", "A", SERVFAIL, None),
    ("10-42-0-33.default.pod.cluster.local.", "A", NOERROR, {"10-42-0-33.default.pod.cluster.local. A 10.42.0.33"}),
    ("10-42-0.default.pod.cluster.local.", "A", NXDOMAIN, set()),
    ("20.0.43.10.in-addr.arpa.", "PTR", NOERROR, {"20.0.43.10.in-addr.arpa. PTR web.default.svc.cluster.local."}),
    ("5.0.42.10.in-addr.arpa.", "PTR", NOERROR, {"5.0.42.10.in-addr.arpa. PTR db-0.db.prod.svc.cluster.local."}),
]


@pytest.mark.parametrize(("name", "rdtype", "rcode", "expected"), CASES, ids=[f"{c[1]} {c[0]}" for c in CASES])
def test_cluster_answers(name: str, rdtype: str, rcode: dns.rcode.Rcode, expected: set[str] | None) -> None:
    """Each cluster name gets Kubernetes' answer: records, NODATA or NXDOMAIN, authoritative."""
    response = ask(name, rdtype)
    assert response is not None
    assert response.rcode() == rcode
    if expected is not None:
        assert answers(response) == expected
    if rcode != SERVFAIL:
        assert response.flags & dns.flags.AA
    assert all(rrset.ttl == TTL for rrset in response.answer)


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [("web.default.svc.cluster.local.", "AAAA"), ("nope.default.svc.cluster.local.", "A")],
)
def test_negative_answers_carry_soa(name: str, rdtype: str) -> None:
    """NODATA and NXDOMAIN carry the zone's SOA, whose minimum keeps negative caching at the TTL."""
    response = ask(name, rdtype)
    assert response is not None
    (soa,) = response.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa[0].minimum == TTL


def test_srv_answers_add_target_addresses() -> None:
    """An SRV answer brings its targets' addresses in the additional section."""
    response = ask("_pg._tcp.db.prod.svc.cluster.local.", "SRV")
    assert response is not None
    extra = {f"{r.name.to_text()} {rd.to_text()}" for r in response.additional for rd in r}
    assert extra == {"db-0.db.prod.svc.cluster.local. 10.42.0.5", "10-42-0-7.db.prod.svc.cluster.local. 10.42.0.7"}


@pytest.mark.parametrize(
    "name",
    ["example.com.", "web.default.svc.cluster.local.example.com.", "99.0.43.10.in-addr.arpa.", "local."],
)
def test_other_names_are_forwarded(name: str) -> None:
    """Names outside the cluster domain, and reverse names we do not know, go upstream (None)."""
    assert ask(name, "PTR" if "arpa" in name else "A") is None


def test_unsynced_cluster_names_fail_without_denial() -> None:
    """Before the watches synced a cluster name gets SERVFAIL (retried), never NXDOMAIN (cached)."""
    response = ask("web.default.svc.cluster.local.", records=None)
    assert response is not None and response.rcode() == SERVFAIL
    assert ask("example.com.", records=None) is None


@pytest.mark.parametrize(
    ("name", "rdtype", "tail"),
    [
        ("ext.default.svc.cluster.local.", "A", "example.com."),
        ("ext.default.svc.cluster.local.", "CNAME", None),
        ("alias.default.svc.cluster.local.", "A", None),
        ("web.default.svc.cluster.local.", "A", None),
    ],
)
def test_external_tail(name: str, rdtype: str, tail: str | None) -> None:
    """Only a CNAME chain that leaves the cluster domain is left for the forwarder to finish."""
    response = ask(name, rdtype)
    assert response is not None
    found = external_tail(response, DOMAIN)
    assert (found.to_text() if found else None) == tail


def test_any_other_domain_is_honoured() -> None:
    """The cluster domain comes from the settings, not a constant."""
    records = build_records(SERVICES, SLICES, domain="edge.example")
    query = dns.message.make_query("web.default.svc.edge.example.", "A")
    response = answer_locally(query, domain=dns.name.from_text("edge.example."), records=records)
    assert response is not None and answers(response) == {"web.default.svc.edge.example. A 10.43.0.20"}
    assert ask("web.default.svc.cluster.local.", records=records) is not None  # still ours: NXDOMAIN
