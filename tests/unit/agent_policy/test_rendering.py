"""The nft text of a plan: exact shape, and accepted by the real nft (`nft -c`, inside a namespace of our own)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from agent.network.policy_model import AddressSet, Allow, CidrBlock, FilterPlan, PodFilter, PortRange
from agent.network.policy_rendering import SHARED_SET_MIN, allow_matches, render_filter, shared_sets
from agent.network.policy_resolving import resolve_plan
from tests.unit.agent_policy.objects import NODE
from tests.unit.agent_policy.test_resolving import CASES, NAMESPACES, PODS

IP = ipaddress.IPv4Address
NET = ipaddress.IPv4Network
CIDR = NET("10.42.1.0/24")

PLAN = FilterPlan(
    table="ektest_filter",
    pod_cidr=CIDR,
    pods=(
        PodFilter(key="shop/db", ip=IP("10.42.1.3"), ingress=(Allow(AddressSet((IP("10.42.1.2"),)), ()),), egress=()),
        PodFilter(
            key="shop/web",
            ip=IP("10.42.1.12"),
            ingress=None,
            egress=(
                Allow(None, (PortRange("udp", 53, 53),)),
                Allow(CidrBlock(NET("10.0.0.0/8"), (NET("10.1.0.0/16"), NET("10.2.0.0/16"))), ()),
            ),
        ),
    ),
)

EXPECTED = """\
add table ip ektest_filter
delete table ip ektest_filter
table ip ektest_filter {
\tmap egress {
\t\ttype ipv4_addr : verdict
\t\telements = { 10.42.1.3 : jump eg_10_42_1_3, 10.42.1.12 : jump eg_10_42_1_12 }
\t}
\tmap ingress {
\t\ttype ipv4_addr : verdict
\t\telements = { 10.42.1.3 : jump in_10_42_1_3 }
\t}
\tchain forward {
\t\ttype filter hook forward priority 0; policy accept;
\t\tip saddr != 10.42.1.0/24 ip daddr != 10.42.1.0/24 accept
\t\tct state established,related accept
\t\tct state invalid drop
\t\tip saddr vmap @egress
\t\tip daddr vmap @ingress
\t}
\tchain eg_10_42_1_3 {
\t\tcomment "egress of shop/db"
\t\tip daddr 10.42.1.3 return
\t\tdrop
\t}
\tchain eg_10_42_1_12 {
\t\tcomment "egress of shop/web"
\t\tip daddr 10.42.1.12 return
\t\tmeta l4proto udp th dport 53 return
\t\tip daddr 10.0.0.0/8 ip daddr != { 10.1.0.0/16, 10.2.0.0/16 } return
\t\tdrop
\t}
\tchain in_10_42_1_3 {
\t\tcomment "ingress of shop/db"
\t\tip saddr 10.42.1.3 accept
\t\tip saddr 10.42.1.2 accept
\t\tdrop
\t}
}
"""


def test_render_whole_table() -> None:
    """A plan renders to the table we mean, line for line."""
    assert render_filter(PLAN) == EXPECTED


def test_empty_plan_removes_the_table() -> None:
    """No isolated pod: the input only makes sure the table is gone."""
    empty = FilterPlan(table="ektest_filter", pod_cidr=CIDR, pods=())
    assert render_filter(empty) == "add table ip ektest_filter\ndelete table ip ektest_filter\n"


def test_only_ingress_leaves_out_the_egress_map() -> None:
    """A direction no pod is isolated in has neither map nor vmap rule (nft refuses empty elements)."""
    plan = FilterPlan("t", CIDR, (PodFilter("a/b", IP("10.42.1.5"), ingress=(), egress=None),))
    text = render_filter(plan)
    assert "map egress" not in text and "@egress" not in text
    assert "ip daddr vmap @ingress" in text


def test_large_address_groups_are_written_once_as_named_sets() -> None:
    """A group of SHARED_SET_MIN or more addresses used by two chains is one named set, referenced twice."""
    many = AddressSet(tuple(IP(f"10.42.2.{i}") for i in range(2, 2 + SHARED_SET_MIN)))
    few = AddressSet((IP("10.42.2.100"),))
    pods = tuple(
        PodFilter(f"a/p{i}", IP(f"10.42.1.{i}"), ingress=(Allow(many, ()), Allow(few, ())), egress=None) for i in (5, 6)
    )
    text = render_filter(FilterPlan("t", CIDR, pods))
    elements = ", ".join(str(a) for a in many.addresses)
    assert text.count(f"elements = {{ {elements} }}") == 1
    assert text.count("ip saddr @peers_0 accept") == 2
    assert text.count("ip saddr 10.42.2.100 accept") == 2
    assert shared_sets(FilterPlan("t", CIDR, pods)) == {many: "peers_0"}


@pytest.mark.parametrize(
    ("allow", "expected"),
    [
        (Allow(None, ()), [""]),
        (Allow(None, (PortRange("tcp", 0, 65535),)), ["meta l4proto tcp"]),
        (
            Allow(
                AddressSet((IP("10.42.1.4"), IP("10.42.2.4"))), (PortRange("tcp", 80, 80), PortRange("tcp", 8000, 8100))
            ),
            ["ip saddr { 10.42.1.4, 10.42.2.4 } meta l4proto tcp th dport { 80, 8000-8100 }"],
        ),
        (
            Allow(None, (PortRange("sctp", 9, 9), PortRange("udp", 53, 53))),
            ["meta l4proto sctp th dport 9", "meta l4proto udp th dport 53"],
        ),
        (Allow(CidrBlock(NET("192.0.2.0/24"), ()), ()), ["ip saddr 192.0.2.0/24"]),
    ],
)
def test_allow_matches(allow: Allow, expected: list[str]) -> None:
    """One allowance becomes one match per protocol."""
    assert allow_matches(allow, "saddr") == expected


# -- the real nft ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    """A network namespace of this test module's own, removed afterwards (nft -c still talks to a kernel)."""
    if os.geteuid() != 0:
        pytest.fail("nft -c needs root (network namespaces)", pytrace=False)
    name = f"h6u-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def nft_check(netns: str, text: str) -> None:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-c", "-f", "-"], input=text, text=True, capture_output=True
    )
    assert done.returncode == 0, f"nft refused:\n{done.stderr}\n{text}"


def test_rendered_plan_passes_nft_check(netns: str) -> None:
    """The hand-built plan is valid nft input."""
    nft_check(netns, render_filter(PLAN))


@pytest.mark.parametrize("policies", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_resolved_case_passes_nft_check(netns: str, policies: list[dict[str, Any]]) -> None:
    """Every policy set of the resolver's table renders to input the real nft accepts."""
    plan = resolve_plan(table="h6u_filter", node=NODE, policies=policies, pods=PODS, namespaces=NAMESPACES).plan
    nft_check(netns, render_filter(plan))
