"""NetworkPolicy rules: Kubernetes defaults, each validation error with its message, the table row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.resources.kinds.networkpolicies import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 0, 0, 40, tzinfo=UTC)


def policy(**spec: Any) -> Obj:
    spec.setdefault("podSelector", {})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "default", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": spec,
    }


def ingress_port(**port: Any) -> dict[str, Any]:
    return {"ingress": [{"ports": [port]}]}


def ingress_peer(**peer: Any) -> dict[str, Any]:
    return {"ingress": [{"from": [peer]}]}


@pytest.mark.parametrize(
    ("spec", "types"),
    [
        ({}, ["Ingress"]),
        ({"ingress": [{}]}, ["Ingress"]),
        ({"egress": [{}]}, ["Ingress", "Egress"]),
        ({"egress": []}, ["Ingress"]),
        ({"policyTypes": ["Egress"]}, ["Egress"]),
    ],
)
def test_policy_types_default(spec: dict[str, Any], types: list[str]) -> None:
    """Ingress always, Egress too when there are egress rules, unless the client chose."""
    obj = policy(**spec)
    STRATEGY.default(obj)
    assert obj["spec"]["policyTypes"] == types


def test_port_protocol_defaults_to_tcp() -> None:
    """Ports without a protocol become TCP, in ingress and egress rules alike."""
    obj = policy(ingress=[{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}], egress=[{"ports": [{}]}])
    STRATEGY.default(obj)
    assert [p["protocol"] for p in obj["spec"]["ingress"][0]["ports"]] == ["TCP", "UDP"]
    assert obj["spec"]["egress"][0]["ports"] == [{"protocol": "TCP"}]


P = "spec.ingress[0].ports[0]"
F = "spec.ingress[0].from[0]"
CASES = [
    pytest.param({}, None, None, id="valid-empty-selector"),
    pytest.param(
        {"podSelector": {"matchLabels": {"a": "-bad-"}}},
        "spec.podSelector.matchLabels",
        'Invalid value: "-bad-": a valid label must be',
        id="bad-selector",
    ),
    pytest.param(
        {"policyTypes": ["Ingress", "Sideways"]},
        "spec.policyTypes[1]",
        'Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
        id="policy-type",
    ),
    pytest.param(
        {"policyTypes": ["Ingress", "Egress", "Ingress"]},
        "spec.policyTypes",
        'Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes',
        id="three-policy-types",
    ),
    pytest.param(
        ingress_port(protocol="ICMP", port=1),
        f"{P}.protocol",
        'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
        id="protocol",
    ),
    pytest.param(
        ingress_port(port=0), f"{P}.port", "Invalid value: 0: must be between 1 and 65535, inclusive", id="port-0"
    ),
    pytest.param(ingress_port(port=70000), f"{P}.port", "Invalid value: 70000: must be between", id="port-high"),
    pytest.param(ingress_port(port="http"), None, None, id="named-port"),
    pytest.param(
        ingress_port(port="Not_A_Name"),
        f"{P}.port",
        'Invalid value: "Not_A_Name": must contain only alpha-numeric characters',
        id="bad-port-name",
    ),
    pytest.param(ingress_port(port=8000, endPort=9000), None, None, id="port-range"),
    pytest.param(
        ingress_port(port=9000, endPort=8000),
        f"{P}.endPort",
        "Invalid value: 9000: must be greater than or equal to `port`",
        id="end-below-port",
    ),
    pytest.param(
        ingress_port(port=80, endPort=70000),
        f"{P}.endPort",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
        id="end-out-of-range",
    ),
    pytest.param(
        ingress_port(port="http", endPort=90),
        f"{P}.endPort",
        "Invalid value: 90: may not be specified when `port` is non-numeric",
        id="end-with-named-port",
    ),
    pytest.param(
        ingress_port(endPort=90),
        f"{P}.endPort",
        "Invalid value: 90: may not be specified when `port` is not specified",
        id="end-without-port",
    ),
    pytest.param(ingress_peer(), F, "Required value: must specify a peer", id="empty-peer"),
    pytest.param(
        ingress_peer(ipBlock={"cidr": "10.0.0.0/8"}, podSelector={}),
        F,
        "Forbidden: may not specify both ipBlock and another peer",
        id="ipblock-and-selector",
    ),
    pytest.param(ingress_peer(podSelector={}, namespaceSelector={}), None, None, id="both-selectors"),
    pytest.param(ingress_peer(ipBlock={}), f"{F}.ipBlock.cidr", "Required value", id="ipblock-no-cidr"),
    pytest.param(
        ingress_peer(ipBlock={"cidr": "10.0.0.0"}),
        f"{F}.ipBlock.cidr",
        'Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        id="ipblock-bad-cidr",
    ),
    pytest.param(ingress_peer(ipBlock={"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}), None, None, id="except"),
    pytest.param(
        ingress_peer(ipBlock={"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}),
        f"{F}.ipBlock.except[0]",
        'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
        id="except-equal",
    ),
    pytest.param(
        ingress_peer(ipBlock={"cidr": "10.0.0.0/8", "except": ["192.168.0.0/24"]}),
        f"{F}.ipBlock.except[0]",
        'Invalid value: "192.168.0.0/24": must be a strict subset of `cidr`',
        id="except-outside",
    ),
    pytest.param(
        ingress_peer(ipBlock={"cidr": "10.0.0.0/8", "except": ["nope"]}),
        f"{F}.ipBlock.except[0]",
        'Invalid value: "nope": must be a valid CIDR value',
        id="except-bad",
    ),
    pytest.param(
        {"egress": [{"to": [{}], "ports": [{"protocol": "GRE"}]}]},
        "spec.egress[0].to[0]",
        "Required value: must specify a peer",
        id="egress-peer",
    ),
]


@pytest.mark.parametrize(("spec", "field", "message"), CASES)
def test_validate(spec: dict[str, Any], field: str | None, message: str | None) -> None:
    """Each rule reports its field and Kubernetes' message; valid specs report nothing."""
    obj = policy(**spec)
    STRATEGY.default(obj)
    causes = STRATEGY.validate(obj)
    if field is None:
        assert causes == []
    else:
        assert any(c.field == field and c.message.startswith(message or "") for c in causes), causes


def test_a_missing_pod_selector_selects_every_pod() -> None:
    """Left out, podSelector is stored as {} (all pods of the namespace), as Kubernetes decodes it."""
    obj = policy()
    del obj["spec"]["podSelector"]
    STRATEGY.default(obj)
    assert obj["spec"]["podSelector"] == {}
    assert STRATEGY.validate(obj) == []


def test_row_shows_the_pod_selector() -> None:
    """kubectl get shows NAME, POD-SELECTOR (<none> when empty), AGE."""
    assert [c.name for c in STRATEGY.columns] == ["Name", "Pod-Selector", "Age"]
    assert STRATEGY.row(policy(), NOW) == ["p", "<none>", "40s"]
    assert STRATEGY.row(policy(podSelector={"matchLabels": {"app": "web"}}), NOW)[1] == "app=web"
