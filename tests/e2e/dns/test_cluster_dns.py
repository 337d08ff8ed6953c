"""The agent's resolver on 10.43.0.10 in a namespace of our own: cluster names, forwarding, bounds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import pytest

from tests.e2e.dns.conftest import SILENT_UPSTREAM, DnsSandbox, make_sandbox
from tests.e2e.dns.netns import OwnNetns
from tests.e2e.dns.upstreams import ADDRESS
from tests.unit.agent_dns.objects import endpoint, endpoint_slice, service

DNS = "10.43.0.10"


async def udp(name: str, rdtype: str = "A", *, payload: int | None = None) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=payload is not None, payload=payload or 512)
    return await dns.asyncquery.udp(query, DNS, timeout=8)


async def tcp(name: str, rdtype: str = "A") -> dns.message.Message:
    return await dns.asyncquery.tcp(dns.message.make_query(name, rdtype), DNS, timeout=8)


def addresses(response: dns.message.Message) -> set[str]:
    return {rd.to_text() for rrset in response.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset}


def test_cluster_names_over_udp_and_tcp(sandbox: DnsSandbox) -> None:
    """A Service name answers its ClusterIP over UDP and TCP, bound before the address existed."""
    for ask in (udp, tcp):
        response = sandbox.loop.run(ask("web.default.svc.cluster.local."))
        assert response.rcode() == dns.rcode.NOERROR and addresses(response) == {"10.43.0.20"}
        assert response.flags & dns.flags.AA
    missing = sandbox.loop.run(udp("nope.default.svc.cluster.local."))
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert sandbox.upstream.names == []  # cluster names never leave the resolver


def test_changes_show_at_once(sandbox: DnsSandbox) -> None:
    """A Service and endpoints added through the watch are answered by the next query."""

    async def add() -> None:
        sandbox.watches.watchers["services"].put(service("shop", "cart", "None"))
        sandbox.watches.watchers["endpointslices"].put(
            endpoint_slice("shop", "cart", [endpoint("10.42.0.40", hostname="cart-0")], [])
        )

    sandbox.loop.run(add())
    assert addresses(sandbox.loop.run(udp("cart-0.cart.shop.svc.cluster.local."))) == {"10.42.0.40"}


def test_forwarding_skips_itself_and_dead_upstreams(sandbox: DnsSandbox) -> None:
    """Outside names go to the first upstream that answers, never to the cluster DNS address itself."""
    response = sandbox.loop.run(udp("shop.example.test."))
    assert response.rcode() == dns.rcode.NOERROR and addresses(response) == {ADDRESS}
    assert sandbox.loop.run(udp("nothing.test.")).rcode() == dns.rcode.NXDOMAIN
    assert sandbox.upstream.names == ["shop.example.test.", "nothing.test."]


def test_truncated_upstream_answers_are_fetched_over_tcp(sandbox: DnsSandbox) -> None:
    """An upstream's truncated UDP answer is fetched again over TCP; a UDP client gets TC, a TCP one all."""
    small = sandbox.loop.run(udp("big.example.test.", "TXT"))
    assert small.flags & dns.flags.TC
    large = sandbox.loop.run(udp("big.example.test.", "TXT", payload=4096))
    assert not large.flags & dns.flags.TC and len(large.answer[0]) == 40
    full = sandbox.loop.run(tcp("big.example.test.", "TXT"))
    assert len(full.answer[0]) == 40
    assert sandbox.upstream.queries["tcp"] >= 2


def test_external_name_outside_is_chased_upstream(sandbox: DnsSandbox) -> None:
    """An ExternalName pointing outside the cluster answers the CNAME plus the upstream's address."""

    async def add() -> None:
        sandbox.watches.watchers["services"].put(
            service("default", "shop", None, type="ExternalName", externalName="shop.example.test")
        )

    sandbox.loop.run(add())
    response = sandbox.loop.run(udp("shop.default.svc.cluster.local."))
    assert response.rcode() == dns.rcode.NOERROR
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert addresses(response) == {ADDRESS}


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["web.default.svc.cluster.local"], "10.43.0.20"),
        (["kubernetes.default.svc.cluster.local"], "10.43.0.1"),
        (["db-0.db.prod.svc.cluster.local"], "10.42.0.5"),
        (["-type=SRV", "_http._tcp.web.default.svc.cluster.local"], "80 web.default.svc.cluster.local"),
        (["shop.example.test"], ADDRESS),
    ],
)
def test_busybox_nslookup(sandbox: DnsSandbox, args: list[str], expect: str) -> None:
    """busybox nslookup (musl's view of DNS) resolves cluster and forwarded names through us."""
    result = sandbox.netns.exec("busybox", "nslookup", *args, DNS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert expect in result.stdout


def test_busybox_nslookup_unknown_cluster_name(sandbox: DnsSandbox) -> None:
    """An unknown cluster name is NXDOMAIN for busybox too."""
    result = sandbox.netns.exec("busybox", "nslookup", "nope.default.svc.cluster.local", DNS)
    assert result.returncode != 0 and "NXDOMAIN" in result.stdout + result.stderr


@pytest.fixture
def silent_sandbox(netns: OwnNetns, tmp_path: Path) -> Iterator[DnsSandbox]:
    """Resolver whose only upstream never answers."""
    sandboxes = make_sandbox(netns, tmp_path, [SILENT_UPSTREAM])
    box = next(sandboxes)
    netns.add_address(f"{DNS}/32")
    yield box
    next(sandboxes, None)


@pytest.mark.slow
def test_dead_upstream_is_bounded(silent_sandbox: DnsSandbox) -> None:
    """With a silent upstream, queries end in SERVFAIL within the deadline and at most 128 wait at once."""

    async def flood() -> tuple[list[dns.message.Message], float, dns.message.Message]:
        started = time.monotonic()
        pending = []
        for i in range(300):  # spread over ~0.3 s: a burst of 300 at once overflows socket buffers
            pending.append(asyncio.ensure_future(udp(f"q{i}.example.test.")))
            await asyncio.sleep(0.001)
        responses = await asyncio.gather(*pending)
        elapsed = time.monotonic() - started
        local = await udp("web.default.svc.cluster.local.")  # cluster names unaffected
        return responses, elapsed, local

    responses, elapsed, local = silent_sandbox.loop.run(flood(), timeout=60)
    assert all(r.rcode() == dns.rcode.SERVFAIL for r in responses)
    assert elapsed < 7.0
    assert len(silent_sandbox.silent.names) <= 128 * 1  # one try each: only one upstream, bounded in flight
    assert addresses(local) == {"10.43.0.20"}


def test_unsynced_cluster_names_servfail(netns: OwnNetns, tmp_path: Path) -> None:
    """Before the watches synced once, cluster names get SERVFAIL while forwarding already works."""
    sandboxes = make_sandbox(netns, tmp_path, ["127.0.0.2"], synced=False)
    box = next(sandboxes)
    try:
        netns.add_address(f"{DNS}/32")
        assert box.loop.run(udp("web.default.svc.cluster.local.")).rcode() == dns.rcode.SERVFAIL
        assert addresses(box.loop.run(udp("a.example.test."))) == {ADDRESS}
        box.loop.run(_sync(box))
        assert addresses(box.loop.run(udp("web.default.svc.cluster.local."))) == {"10.43.0.20"}
    finally:
        next(sandboxes, None)


async def _sync(box: DnsSandbox) -> None:
    from tests.unit.agent_dns.objects import SERVICES, SLICES

    box.watches.sync(SERVICES, SLICES)
