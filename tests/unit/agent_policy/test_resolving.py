"""Which local pods are isolated, and what their policies let through, resolved to addresses and ports."""

from __future__ import annotations

from typing import Any

import pytest

from agent.network.policy_model import AddressSet, Allow, FilterPlan, PortRange
from agent.network.policy_resolving import merge_ports, resolve_plan
from tests.unit.agent_policy.objects import NODE, labels, namespace, pod, policy, tcp

Obj = dict[str, Any]

NAMESPACES = [namespace("shop", team="a"), namespace("ops", team="a"), namespace("other", team="b")]
PODS = [
    pod("shop", "web", "10.42.1.2", labels={"app": "web"}, ports=[{"name": "http", "containerPort": 8080}]),
    pod("shop", "db", "10.42.1.3", labels={"app": "db"}, ports=[{"name": "pg", "containerPort": 5432}]),
    pod("shop", "api", "10.42.2.5", node="n2", labels={"app": "api"}, ports=[{"name": "http", "containerPort": 9090}]),
    pod("other", "cli", "10.42.1.4", labels={"app": "cli"}),
    pod("other", "web", "10.42.1.5", labels={"app": "web"}),
    pod("ops", "mon", "10.42.2.6", node="n2", labels={"app": "mon"}),
    pod("shop", "done", "10.42.1.9", labels={"app": "web"}, phase="Succeeded"),
    pod("shop", "hostnet", "198.18.0.11", labels={"app": "web"}, host_network=True),
    pod("shop", "pending", None, labels={"app": "web"}),
]
WEB, DB, CLI = "shop/web", "shop/db", "other/cli"


def describe(allow: Allow) -> str:
    """`peers ports`: '*' for any; addresses joined by ','; a block as cidr-except."""
    if allow.peers is None:
        peers = "*"
    elif isinstance(allow.peers, AddressSet):
        peers = ",".join(str(a) for a in allow.peers.addresses)
    else:
        peers = f"{allow.peers.cidr}-{','.join(str(e) for e in allow.peers.excepted)}"
    ports = ",".join(f"{p.protocol}/{p.first}" + (f"-{p.last}" if p.last != p.first else "") for p in allow.ports)
    return f"{peers} {ports or '*'}"


def summary(plan: FilterPlan) -> dict[str, tuple[list[str] | None, list[str] | None]]:
    return {
        p.key: (
            None if p.ingress is None else [describe(a) for a in p.ingress],
            None if p.egress is None else [describe(a) for a in p.egress],
        )
        for p in plan.pods
    }


def resolve(*policies: Obj, pods: list[Obj] = PODS) -> dict[str, tuple[list[str] | None, list[str] | None]]:
    resolution = resolve_plan(table="t_filter", node=NODE, policies=policies, pods=pods, namespaces=NAMESPACES)
    assert not resolution.problems
    return summary(resolution.plan)


CASES: list[tuple[str, list[Obj], dict[str, tuple[list[str] | None, list[str] | None]]]] = [
    ("no policy isolates nothing", [], {}),
    (
        "default deny ingress isolates the namespace's local pods only",
        [policy("shop", "deny", policyTypes=["Ingress"])],
        {DB: ([], None), WEB: ([], None)},
    ),
    (
        "default deny egress",
        [policy("shop", "deny", policyTypes=["Egress"])],
        {DB: (None, []), WEB: (None, [])},
    ),
    (
        "no policyTypes and egress rules: both directions",
        [policy("shop", "p", podSelector=labels(app="web"), egress=[{"ports": [tcp(53, protocol="UDP")]}])],
        {WEB: ([], ["* udp/53"])},
    ),
    (
        "no policyTypes and no rules: ingress only",
        [policy("other", "p")],
        {CLI: ([], None), "other/web": ([], None)},
    ),
    (
        "allow by pod label: same namespace only",
        [policy("shop", "p", podSelector=labels(app="db"), ingress=[{"from": [{"podSelector": labels(app="web")}]}])],
        {DB: (["10.42.1.2 *"], None)},
    ),
    (
        "allow by namespace label: every pod of those namespaces, any node",
        [
            policy(
                "shop", "p", podSelector=labels(app="db"), ingress=[{"from": [{"namespaceSelector": labels(team="a")}]}]
            )
        ],
        {DB: (["10.42.1.2,10.42.1.3,10.42.2.5,10.42.2.6 *"], None)},
    ),
    (
        "namespace and pod selector together: both must hold",
        [
            policy(
                "shop",
                "p",
                podSelector=labels(app="db"),
                ingress=[{"from": [{"namespaceSelector": labels(team="a"), "podSelector": labels(app="mon")}]}],
            )
        ],
        {DB: (["10.42.2.6 *"], None)},
    ),
    (
        "empty namespace selector: the labelled pods of every namespace",
        [
            policy(
                "shop",
                "p",
                podSelector=labels(app="db"),
                ingress=[{"from": [{"namespaceSelector": {}, "podSelector": labels(app="web")}]}],
            )
        ],
        {DB: (["10.42.1.2,10.42.1.5 *"], None)},
    ),
    (
        "namespace by its name label",
        [
            policy(
                "shop",
                "p",
                podSelector=labels(app="db"),
                ingress=[{"from": [{"namespaceSelector": labels(**{"kubernetes.io/metadata.name": "other"})}]}],
            )
        ],
        {DB: (["10.42.1.4,10.42.1.5 *"], None)},
    ),
    (
        "ipBlock with except; excepts outside the block are dropped",
        [
            policy(
                "shop",
                "p",
                podSelector=labels(app="db"),
                policyTypes=["Egress"],
                egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "192.168.0.0/16"]}}]}],
            )
        ],
        {DB: (None, ["10.0.0.0/8-10.1.0.0/16 *"])},
    ),
    (
        "IPv6 ipBlock matches nothing, and does not widen the rule",
        [
            policy(
                "shop",
                "p",
                podSelector=labels(app="db"),
                policyTypes=["Egress"],
                egress=[{"to": [{"ipBlock": {"cidr": "fd00::/8"}}]}],
            )
        ],
        {DB: (None, [])},
    ),
    (
        "ports: number, range, protocol alone, merged",
        [
            policy(
                "shop",
                "p",
                podSelector=labels(app="db"),
                ingress=[{"ports": [tcp(80), tcp(81, 90), tcp(85, 100), tcp(protocol="UDP"), tcp(9, protocol="SCTP")]}],
            )
        ],
        {DB: (["* sctp/9,tcp/80-100,udp/0-65535"], None)},
    ),
    (
        "ingress named port: the target's own container port",
        [policy("shop", "p", ingress=[{"ports": [tcp("http")]}])],
        {DB: ([], None), WEB: (["* tcp/8080"], None)},
    ),
    (
        "ingress named port with another protocol does not match",
        [policy("shop", "p", podSelector=labels(app="web"), ingress=[{"ports": [tcp("http", protocol="UDP")]}])],
        {WEB: ([], None)},
    ),
    (
        "egress named port: each destination pod's own number",
        [
            policy(
                "shop",
                "p",
                podSelector=labels(app="db"),
                policyTypes=["Egress"],
                egress=[{"to": [{"podSelector": {}}], "ports": [tcp("http"), tcp(443)]}],
            )
        ],
        {DB: (None, ["10.42.1.2 tcp/8080", "10.42.1.2,10.42.1.3,10.42.2.5 tcp/443", "10.42.2.5 tcp/9090"])},
    ),
    (
        "egress named port without peers: any pod of the cluster that names it",
        [policy("other", "p", podSelector=labels(app="cli"), policyTypes=["Egress"], egress=[{"ports": [tcp("pg")]}])],
        {CLI: (None, ["10.42.1.3 tcp/5432"])},
    ),
    (
        "egress named port to an ipBlock: pods inside the block",
        [
            policy(
                "other",
                "p",
                podSelector=labels(app="cli"),
                policyTypes=["Egress"],
                egress=[{"to": [{"ipBlock": {"cidr": "10.42.2.0/24"}}], "ports": [tcp("http")]}],
            )
        ],
        {CLI: (None, ["10.42.2.5 tcp/9090"])},
    ),
    (
        "union of two policies",
        [
            policy("shop", "a", podSelector=labels(app="db"), ingress=[{"from": [{"podSelector": labels(app="web")}]}]),
            policy(
                "shop",
                "b",
                podSelector=labels(app="db"),
                ingress=[{"from": [{"podSelector": labels(app="api")}], "ports": [tcp(5432)]}],
            ),
        ],
        {DB: (["10.42.1.2 *", "10.42.2.5 tcp/5432"], None)},
    ),
    (
        "an empty rule allows everything and swallows the rest",
        [
            policy("shop", "a", podSelector=labels(app="db"), ingress=[{"from": [{"podSelector": labels(app="web")}]}]),
            policy("shop", "b", podSelector=labels(app="db"), ingress=[{}]),
        ],
        {DB: (["* *"], None)},
    ),
    (
        "a selector that matches no pod allows nothing",
        [
            policy(
                "shop", "p", podSelector=labels(app="db"), ingress=[{"from": [{"podSelector": labels(app="nobody")}]}]
            )
        ],
        {DB: ([], None)},
    ),
    (
        "matchExpressions select too",
        [
            policy(
                "shop",
                "p",
                podSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "web"]}]},
                policyTypes=["Ingress"],
            )
        ],
        {DB: ([], None), WEB: ([], None)},
    ),
    (
        "a policy of another namespace does not select",
        [policy("ops", "deny", policyTypes=["Ingress", "Egress"])],
        {},
    ),
]


@pytest.mark.parametrize(("policies", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_resolution(policies: list[Obj], expected: dict[str, Any]) -> None:
    """Each policy set isolates exactly the expected local pods with exactly the expected allowances."""
    assert resolve(*policies) == expected


def test_pods_outside_the_node_cidr_are_not_enforced() -> None:
    """A pod of this node whose IP is not in the node's pod CIDR (hostNetwork-like) is left alone."""
    pods = [pod("shop", "odd", "10.99.0.2", labels={"app": "db"})]
    assert resolve(policy("shop", "deny"), pods=pods) == {}


def test_unreadable_policy_is_named_and_left_out() -> None:
    """A policy with a selector the agent cannot read is reported, and the others still apply."""
    bad = policy("shop", "bad", podSelector={"matchExpressions": [{"key": "app", "operator": "Near"}]})
    good = policy("other", "deny")
    resolution = resolve_plan(table="t", node=NODE, policies=[bad, good], pods=PODS, namespaces=NAMESPACES)
    assert [p.key for p in resolution.plan.pods] == [CLI, "other/web"]
    assert len(resolution.problems) == 1
    assert "shop/bad" in resolution.problems[0]


def test_pods_sharing_an_address_are_reported() -> None:
    """Two local pods with one IP (a stale record) give one chain and a problem, never a clash in the map."""
    pods = [pod("shop", "a", "10.42.1.7"), pod("shop", "b", "10.42.1.7")]
    resolution = resolve_plan(table="t", node=NODE, policies=[policy("shop", "deny")], pods=pods, namespaces=NAMESPACES)
    assert [p.key for p in resolution.plan.pods] == ["shop/a"]
    assert resolution.problems


def test_plan_is_independent_of_input_order() -> None:
    """The same objects in another order give an equal plan (so the text, and no re-apply)."""
    policies = [policy("shop", "a", ingress=[{"from": [{"namespaceSelector": {}}]}]), policy("other", "b")]
    one = resolve_plan(table="t", node=NODE, policies=policies, pods=PODS, namespaces=NAMESPACES)
    two = resolve_plan(table="t", node=NODE, policies=policies[::-1], pods=PODS[::-1], namespaces=NAMESPACES[::-1])
    assert one == two


@pytest.mark.parametrize(
    ("ranges", "merged"),
    [
        ([], []),
        ([("tcp", 80, 80), ("tcp", 81, 90)], [("tcp", 80, 90)]),
        ([("tcp", 85, 100), ("tcp", 80, 90), ("udp", 53, 53)], [("tcp", 80, 100), ("udp", 53, 53)]),
        ([("tcp", 80, 80), ("tcp", 82, 82)], [("tcp", 80, 80), ("tcp", 82, 82)]),
        ([("udp", 1, 1), ("tcp", 1, 1)], [("tcp", 1, 1), ("udp", 1, 1)]),
    ],
)
def test_merge_ports(ranges: list[tuple[str, int, int]], merged: list[tuple[str, int, int]]) -> None:
    """Overlapping and adjacent ranges of one protocol join; other protocols stay apart."""
    assert merge_ports(PortRange(*r) for r in ranges) == tuple(PortRange(*m) for m in merged)
