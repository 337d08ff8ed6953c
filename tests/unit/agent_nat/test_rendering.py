"""The pure renderer: each feature's chains, sets and map elements, and the per-service update."""

from __future__ import annotations

from typing import Any

import pytest

from agent.network.nat_model import service_nat
from agent.network.nat_rendering import Element, NatContext, ServiceRules, full_ruleset, render_service, update_commands
from tests.unit.agent_nat.samples import ep, eps, svc

CTX = NatContext("edgekube", "10.42.0.0/16", "10.43.0.0/16")
BASE = "default/web/tcp/http"


def rules_of(service: dict[str, Any], endpoints: list[dict[str, Any]]) -> ServiceRules:
    # The slice serves every service port on 8080 (same name and protocol).
    ports = [
        {"name": p.get("name", ""), "port": 8080, "protocol": p.get("protocol", "TCP")}
        for p in service["spec"]["ports"]
    ]
    model = service_nat(service, [eps("web", endpoints, ports=ports)], node_name="n1", cluster_dns="10.43.0.10")
    assert model is not None
    return render_service(model, CTX)


def lines(rules: ServiceRules) -> list[str]:
    """Chains, sets and elements as one flat list of strings, for `in` checks."""
    out = [f"{name}: {rule}" for name, chain in rules.chains for rule in chain]
    out += [f"set {name} {timeout}" for name, timeout in rules.sets]
    out += [f"{el.map}[{el.key}] = {el.verdict}" for el in rules.elements]
    return out


TWO = [ep("10.42.0.2"), ep("10.42.1.2", node="n2")]
NODEPORT = {"type": "NodePort", "ports": [{"name": "http", "port": 80, "nodePort": 30080}]}
CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], list[str]]] = [
    (
        "clusterIP: map element, masquerade from outside the cluster, random pick",
        {},
        TWO,
        [
            f"service-ips[10.43.0.20 . tcp . 80] = goto svc-{BASE}",
            f"svc-{BASE}: ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
            f"svc-{BASE}: numgen random mod 2 vmap {{ 0 : goto ep-{BASE}/10.42.0.2/8080, "
            f"1 : goto ep-{BASE}/10.42.1.2/8080 }}",
        ],
    ),
    (
        "endpoint: hairpin mark, then dnat",
        {},
        TWO,
        [
            f"ep-{BASE}/10.42.0.2/8080: ip saddr 10.42.0.2 jump mark-for-masquerade",
            f"ep-{BASE}/10.42.0.2/8080: meta l4proto tcp dnat to 10.42.0.2:8080",
        ],
    ),
    (
        "no endpoints: reject through the filter maps",
        NODEPORT,
        [],
        [
            "no-endpoint-services[10.43.0.20 . tcp . 80] = goto reject-service",
            "no-endpoint-nodeports[tcp . 30080] = goto reject-service",
        ],
    ),
    (
        "nodePort, Cluster policy: mark and use every endpoint",
        NODEPORT,
        TWO,
        [
            f"service-nodeports[tcp . 30080] = goto ext-{BASE}",
            f"ext-{BASE}: jump mark-for-masquerade",
            f"ext-{BASE}: goto svc-{BASE}",
        ],
    ),
    (
        "nodePort, Local policy: pods and node to all, others to local endpoints unmasqueraded",
        {**NODEPORT, "externalTrafficPolicy": "Local"},
        TWO,
        [
            f"ext-{BASE}: ip saddr 10.42.0.0/16 goto svc-{BASE}",
            f"ext-{BASE}: fib saddr type local jump mark-for-masquerade",
            f"ext-{BASE}: goto loc-{BASE}",
            f"loc-{BASE}: numgen random mod 1 vmap {{ 0 : goto ep-{BASE}/10.42.0.2/8080 }}",
        ],
    ),
    (
        "Local policy without a local endpoint: external traffic dropped",
        {**NODEPORT, "externalTrafficPolicy": "Local"},
        [ep("10.42.1.2", node="n2")],
        [f"ext-{BASE}: drop"],
    ),
    (
        "LoadBalancer: nodePort, the port on node addresses, the ingress IP",
        {
            "type": "LoadBalancer",
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}]}},
        },
        TWO,
        [
            f"service-nodeports[tcp . 30080] = goto ext-{BASE}",
            f"service-nodeports[tcp . 80] = goto ext-{BASE}",
            f"service-ips[203.0.113.5 . tcp . 80] = goto ext-{BASE}",
        ],
    ),
    (
        "ClientIP affinity: a timed set per endpoint, checked before the pick, refreshed on use",
        {"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}},
        TWO,
        [
            f"set aff-{BASE}/10.42.0.2/8080/60 60",
            f"svc-{BASE}: ip saddr @aff-{BASE}/10.42.0.2/8080/60 goto ep-{BASE}/10.42.0.2/8080",
            f"ep-{BASE}/10.42.0.2/8080: update @aff-{BASE}/10.42.0.2/8080/60 {{ ip saddr }}",
        ],
    ),
    (
        "UDP",
        {"ports": [{"name": "http", "port": 53, "protocol": "UDP"}]},
        [ep("10.42.0.2")],
        ["service-ips[10.43.0.20 . udp . 53] = goto svc-default/web/udp/http"],
    ),
]


@pytest.mark.parametrize(("case", "spec", "endpoints", "expected"), CASES, ids=[c[0] for c in CASES])
def test_feature_rendering(
    case: str, spec: dict[str, Any], endpoints: list[dict[str, Any]], expected: list[str]
) -> None:
    """Each feature renders the rules kube-proxy's nftables mode would have."""
    got = lines(rules_of(svc(**spec), endpoints))
    for line in expected:
        assert line in got, f"{case}: {line!r} not in\n" + "\n".join(got)


def test_callees_come_first() -> None:
    """Endpoint chains precede the service chain, the service chain the external one."""
    names = [name for name, _ in rules_of(svc(**NODEPORT), TWO).chains]
    assert names.index(f"ep-{BASE}/10.42.0.2/8080") < names.index(f"svc-{BASE}") < names.index(f"ext-{BASE}")


def test_full_ruleset_replaces_the_table_atomically() -> None:
    """The full ruleset creates, deletes and rebuilds the table, hooks at -100/100 and filter -10."""
    text = full_ruleset([rules_of(svc(), TWO)], CTX)
    assert text.startswith("add table ip edgekube\ndelete table ip edgekube\ntable ip edgekube {\n")
    for hook in (
        "type nat hook prerouting priority -100;",
        "type nat hook output priority -100;",
        "type nat hook postrouting priority 100;",
        "type filter hook forward priority -10;",
        "ip saddr 10.42.0.0/16 ip daddr != 10.42.0.0/16 ip daddr != 10.43.0.0/16 masquerade",
    ):
        assert hook in text


def test_update_touches_only_what_changed() -> None:
    """Removing one endpoint: its chain deleted, the service chain rewritten, map elements untouched."""
    old, new = rules_of(svc(), TWO), rules_of(svc(), TWO[:1])
    assert update_commands(old, new, "edgekube") == [
        f"flush chain ip edgekube ep-{BASE}/10.42.1.2/8080",
        f"flush chain ip edgekube svc-{BASE}",
        f"delete chain ip edgekube ep-{BASE}/10.42.1.2/8080",
        f"add rule ip edgekube svc-{BASE} ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
        f"add rule ip edgekube svc-{BASE} numgen random mod 1 vmap {{ 0 : goto ep-{BASE}/10.42.0.2/8080 }}",
    ]


def test_update_from_and_to_nothing() -> None:
    """A new service is declared then filled; a gone one loses its elements before its chains."""
    rules = rules_of(svc(), TWO[:1])
    added = update_commands(None, rules, "edgekube")
    assert added[0] == f"add chain ip edgekube ep-{BASE}/10.42.0.2/8080"
    assert added[-1] == f"add element ip edgekube service-ips {{ 10.43.0.20 . tcp . 80 : goto svc-{BASE} }}"
    removed = update_commands(rules, None, "edgekube")
    assert removed[0] == "delete element ip edgekube service-ips { 10.43.0.20 . tcp . 80 }"
    assert removed[-1] == f"delete chain ip edgekube ep-{BASE}/10.42.0.2/8080"
    assert update_commands(rules, rules, "edgekube") == []


def test_verdict_change_replaces_the_element() -> None:
    """Endpoints appearing moves the key from the reject map to the service map."""
    before, after = rules_of(svc(), []), rules_of(svc(), TWO)
    cmds = update_commands(before, after, "edgekube")
    assert cmds[0] == "delete element ip edgekube no-endpoint-services { 10.43.0.20 . tcp . 80 }"
    assert Element("service-ips", "10.43.0.20 . tcp . 80", f"goto svc-{BASE}") in after.elements
