"""Services and EndpointSlices reduced to the NAT model."""

from __future__ import annotations

from typing import Any

import pytest

from agent.network.nat_model import Endpoint, service_key_of_slice, service_nat
from tests.unit.agent_nat.samples import ep, eps, svc

DNS = "10.43.0.10"


def model(service: dict[str, Any], slices: list[dict[str, Any]]) -> Any:
    return service_nat(service, slices, node_name="n1", cluster_dns=DNS)


@pytest.mark.parametrize(
    ("service", "why"),
    [
        (svc(cluster_ip="None"), "headless"),
        (svc(cluster_ip=""), "no clusterIP"),
        (svc(cluster_ip=DNS), "the cluster DNS address is answered locally"),
        (svc(type="ExternalName", externalName="example.org"), "ExternalName"),
        (svc(cluster_ip="fd00::1"), "IPv6"),
        (svc(cluster_ip="10.43.0.300"), "not an address"),
    ],
)
def test_services_without_nat(service: dict[str, Any], why: str) -> None:
    """Services the node translates nothing for give None."""
    assert model(service, []) is None, why


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        ([ep("10.42.0.2"), ep("10.42.0.3")], ["10.42.0.2", "10.42.0.3"]),
        ([ep("10.42.0.2"), ep("10.42.0.3", ready=False)], ["10.42.0.2"]),
        ([{"addresses": ["10.42.0.4"], "conditions": {}}], ["10.42.0.4"]),  # absent condition: ready
        # None ready: the serving, terminating ones take the traffic (draining), as Kubernetes does.
        (
            [ep("10.42.0.2", ready=False, serving=True, terminating=True), ep("10.42.0.3", ready=False)],
            ["10.42.0.2"],
        ),
        ([ep("10.42.0.2", ready=False, serving=False, terminating=True)], []),
        ([ep("10.42.0.2"), ep("10.42.0.2")], ["10.42.0.2"]),  # duplicates across slices collapse
        ([ep("bogus"), {"addresses": []}], []),
    ],
)
def test_endpoint_selection(endpoints: list[dict[str, Any]], expected: list[str]) -> None:
    """Ready endpoints, else serving+terminating ones; sorted, deduplicated, valid only."""
    found = model(svc(), [eps("web", endpoints)])
    assert [e.ip for e in found.ports[0].endpoints] == expected


def test_ports_match_by_name_and_protocol() -> None:
    """Each service port takes the slice port of its name and protocol; locality follows nodeName."""
    service = svc(
        ports=[
            {"name": "dns", "port": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        ]
    )
    slice_ = eps(
        "web",
        [ep("10.42.0.2"), ep("10.42.1.2", node="n2")],
        ports=[{"name": "dns", "port": 5353, "protocol": "UDP"}, {"name": "dns-tcp", "port": 5354, "protocol": "TCP"}],
    )
    found = model(service, [slice_])
    assert [(p.protocol, p.port) for p in found.ports] == [("udp", 53), ("tcp", 53)]
    assert found.ports[0].endpoints == (Endpoint("10.42.0.2", 5353, True), Endpoint("10.42.1.2", 5353, False))
    assert [e.port for e in found.ports[1].endpoints] == [5354, 5354]


@pytest.mark.parametrize(
    ("service", "node_port", "port_on_node", "external_ips", "local", "affinity"),
    [
        (svc(), 0, False, (), False, 0),
        (svc(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]), 30080, False, (), False, 0),
        (
            svc(
                type="LoadBalancer",
                ports=[{"port": 80, "nodePort": 30080}],
                externalTrafficPolicy="Local",
                status={"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}, {"hostname": "x"}]}},
            ),
            30080,
            True,
            ("203.0.113.5",),
            True,
            0,
        ),
        (svc(externalIPs=["198.51.100.9"], externalTrafficPolicy="Local"), 0, False, ("198.51.100.9",), False, 0),
        (svc(sessionAffinity="ClientIP"), 0, False, (), False, 10800),
        (
            svc(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 30}}),
            0,
            False,
            (),
            False,
            30,
        ),
    ],
)
def test_service_features(
    service: dict[str, Any],
    node_port: int,
    port_on_node: bool,
    external_ips: tuple[str, ...],
    local: bool,
    affinity: int,
) -> None:
    """Type, external addresses, traffic policy and affinity land in each PortNat."""
    port = model(service, []).ports[0]
    assert (port.node_port, port.port_on_node, port.external_ips, port.external_local, port.affinity_seconds) == (
        node_port,
        port_on_node,
        external_ips,
        local,
        affinity,
    )


def test_slice_owner() -> None:
    """A slice belongs to the service its label names; unlabelled ones to none."""
    assert service_key_of_slice(eps("web", [])) == "default/web"
    assert service_key_of_slice({"metadata": {"namespace": "default", "name": "x"}}) is None
