"""Planning one Service write: what is filled in, what is granted, what is refused, and why."""

from __future__ import annotations

import copy
import ipaddress
import random
from typing import Any

import pytest

from edgekube.resources.kinds.services import STRATEGY
from edgekube.resources.objects import Obj
from edgekube.service.alloc_holdings import holding, ip_value
from edgekube.service.alloc_planning import Plan, Ranges, plan_allocations
from edgekube.service.alloc_pools import Pool
from edgekube.service.allocating import address_pool

NOW = 100.0
OWNER = "default/web"


def ranges(cidr: str = "10.43.0.0/16", ports: tuple[int, int] = (30000, 32767)) -> Ranges:
    rng = random.Random(3)
    return Ranges(address_pool(ipaddress.IPv4Network(cidr), None, rng), cidr, Pool(*ports, rng=rng))


def service(**spec: Any) -> Obj:
    spec.setdefault("ports", [{"port": 80}])
    obj: Obj = {"metadata": {"name": "web", "namespace": "default"}, "spec": spec}
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    assert STRATEGY.validate(obj) == [], STRATEGY.validate(obj)
    return obj


def update(old: Obj, **changes: Any) -> Obj:
    new = copy.deepcopy(old)
    new["spec"].update(changes)
    STRATEGY.prepare_for_update(new, old)
    STRATEGY.default(new)
    assert STRATEGY.validate_update(new, old) == []
    return new


def messages(plan: Plan) -> list[tuple[str, str]]:
    return [(c.field, c.message) for c in plan.causes]


# -- cluster IPs ----------------------------------------------------------------------------


def test_empty_cluster_ip_gets_a_random_usable_address() -> None:
    """No clusterIP: one is picked, written to clusterIP and clusterIPs, and planned for a lease."""
    r = ranges()
    obj = service()
    plan = plan_allocations(r, obj, None, OWNER, NOW)
    ip = obj["spec"]["clusterIP"]
    assert obj["spec"]["clusterIPs"] == [ip] and plan.ips == [ip_value(ip)]
    assert ipaddress.IPv4Address(ip) in ipaddress.IPv4Network("10.43.0.0/16")
    assert ip not in ("10.43.0.0", "10.43.0.1", "10.43.0.10", "10.43.255.255")


def test_random_picks_never_give_the_reserved_addresses() -> None:
    """In a /28 of 14 usable addresses, 12 services never get .1 (kubernetes) or .10 (DNS)."""
    r = ranges("10.96.0.0/28")
    picked = set()
    for i in range(12):
        obj = service()
        plan = plan_allocations(r, obj, None, f"default/s{i}", NOW)
        r.ips.lease(plan.ips[0], f"default/s{i}", NOW + 60)
        picked.add(obj["spec"]["clusterIP"])
    assert len(picked) == 12
    assert not picked & {"10.96.0.0", "10.96.0.1", "10.96.0.10", "10.96.0.15"}
    full = plan_allocations(r, service(), None, "default/one-more", NOW)
    assert full.full == ["serviceIP"]


@pytest.mark.parametrize(
    ("requested", "problem"),
    [
        ("10.43.7.7", None),
        ("10.43.0.10", None),  # the DNS address, asked for by name
        ("10.43.0.1", None),  # the kubernetes address, asked for by name
        ("10.43.0.5", "provided IP is already allocated"),
        ("10.44.0.5", "provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16"),
        ("10.43.0.0", "provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16"),
        ("10.43.255.255", "provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16"),
    ],
)
def test_requested_cluster_ip(requested: str, problem: str | None) -> None:
    """A requested address is granted when free and in range, else refused in Kubernetes' words."""
    r = ranges()
    r.ips.hold(int(ipaddress.IPv4Address("10.43.0.5")), "other/taken")
    plan = plan_allocations(r, service(clusterIP=requested), None, OWNER, NOW)
    if problem is None:
        assert plan.causes == [] and plan.ips == [ip_value(requested)]
    else:
        assert messages(plan) == [("spec.clusterIP", f'Invalid value: "{requested}": {problem}')]
        assert plan.ips == []


def test_an_address_held_by_the_same_service_is_its_own() -> None:
    """A value the same namespace/name holds or leased (a retried write) is not 'already allocated'."""
    r = ranges()
    r.ips.lease(int(ipaddress.IPv4Address("10.43.3.3")), OWNER, NOW + 60)
    assert plan_allocations(r, service(clusterIP="10.43.3.3"), None, OWNER, NOW).causes == []


@pytest.mark.parametrize(
    "spec",
    [
        {"clusterIP": "None"},
        {"type": "ExternalName", "externalName": "db.example.com", "ports": []},
    ],
    ids=["headless", "external-name"],
)
def test_no_address_for_headless_or_external_name(spec: dict[str, Any]) -> None:
    """Headless and ExternalName Services take nothing from the address range."""
    obj = service(**spec)
    plan = plan_allocations(ranges(), obj, None, OWNER, NOW)
    assert plan.ips == [] and obj["spec"].get("clusterIP") in (None, "None")


# -- node ports -----------------------------------------------------------------------------


def test_node_ports_are_filled_in_for_every_port() -> None:
    """A NodePort Service gets a distinct node port per port number, inside the range."""
    obj = service(type="NodePort", ports=[{"name": "a", "port": 80}, {"name": "b", "port": 443}])
    plan = plan_allocations(ranges(), obj, None, OWNER, NOW)
    got = [p["nodePort"] for p in obj["spec"]["ports"]]
    assert sorted(plan.ports) == sorted(got) and len(set(got)) == 2
    assert all(30000 <= n <= 32767 for n in got)


def test_tcp_and_udp_of_one_port_share_a_node_port() -> None:
    """53/TCP and 53/UDP get one node port, allocated once."""
    obj = service(
        type="NodePort",
        ports=[{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}],
    )
    plan = plan_allocations(ranges(), obj, None, OWNER, NOW)
    a, b = (p["nodePort"] for p in obj["spec"]["ports"])
    assert a == b and plan.ports == [a]


def test_one_requested_node_port_for_both_protocols_is_allowed() -> None:
    """The same node port named on a TCP and a UDP port of one Service is one claim, not a conflict."""
    obj = service(
        type="NodePort",
        ports=[
            {"name": "u", "port": 53, "protocol": "UDP", "nodePort": 30053},
            {"name": "t", "port": 53, "protocol": "TCP", "nodePort": 30053},
        ],
    )
    plan = plan_allocations(ranges(), obj, None, OWNER, NOW)
    assert plan.causes == [] and plan.ports == [30053]


def test_requested_node_port_taken_by_another_service_is_refused() -> None:
    """A node port another Service holds is 422 on that port's field; the free one is granted."""
    r = ranges()
    r.ports.hold(30080, "other/svc")
    obj = service(
        type="NodePort",
        ports=[{"name": "a", "port": 80, "nodePort": 30080}, {"name": "b", "port": 81, "nodePort": 30081}],
    )
    plan = plan_allocations(r, obj, None, OWNER, NOW)
    assert messages(plan) == [("spec.ports[0].nodePort", "Invalid value: 30080: provided port is already allocated")]


def test_node_port_outside_a_configured_range_is_refused() -> None:
    """With a narrower range than the default, a port outside it gets the range in the message."""
    r = ranges(ports=(31000, 31999))
    plan = plan_allocations(r, service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]), None, OWNER, NOW)
    detail = "provided port is not in the valid range. The range of valid ports is 31000-31999"
    assert messages(plan) == [("spec.ports[0].nodePort", f"Invalid value: 30080: {detail}")]


def test_picked_node_ports_avoid_ones_requested_in_the_same_spec() -> None:
    """With two free ports, one requested, the other port gets the other one."""
    r = ranges(ports=(30000, 30001))
    obj = service(type="NodePort", ports=[{"name": "a", "port": 80}, {"name": "b", "port": 81, "nodePort": 30000}])
    plan = plan_allocations(r, obj, None, OWNER, NOW)
    assert obj["spec"]["ports"][0]["nodePort"] == 30001 and sorted(plan.ports) == [30000, 30001]


def test_no_node_ports_left_is_full() -> None:
    """An exhausted node port range is reported as full."""
    r = ranges(ports=(30000, 30000))
    r.ports.hold(30000, "other/svc")
    plan = plan_allocations(r, service(type="NodePort"), None, OWNER, NOW)
    assert plan.full == ["nodePort"]


def test_load_balancer_without_node_ports() -> None:
    """allocateLoadBalancerNodePorts: false leaves node ports empty."""
    obj = service(type="LoadBalancer", allocateLoadBalancerNodePorts=False)
    plan = plan_allocations(ranges(), obj, None, OWNER, NOW)
    assert plan.ports == [] and "nodePort" not in obj["spec"]["ports"][0]


def test_load_balancer_local_gets_a_health_check_port() -> None:
    """LoadBalancer with externalTrafficPolicy Local gets node ports and a healthCheckNodePort."""
    obj = service(type="LoadBalancer", externalTrafficPolicy="Local")
    plan = plan_allocations(ranges(), obj, None, OWNER, NOW)
    hc = obj["spec"]["healthCheckNodePort"]
    assert hc != obj["spec"]["ports"][0]["nodePort"] and sorted(plan.ports) == sorted(
        [hc, obj["spec"]["ports"][0]["nodePort"]]
    )


# -- updates --------------------------------------------------------------------------------


def test_update_that_keeps_the_spec_plans_nothing() -> None:
    """A label change (or a status write) allocates nothing, even for a Service held elsewhere."""
    r = ranges()
    old = service(type="NodePort", clusterIP="10.43.1.1", ports=[{"port": 80, "nodePort": 30080}])
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"a": "b"}
    plan = plan_allocations(r, new, old, OWNER, NOW)
    assert plan == Plan(OWNER, NOW, holding(old))


def test_update_keeping_its_values_needs_no_check() -> None:
    """An update that keeps clusterIP and nodePort is not refused although they are held (by itself)."""
    r = ranges()
    old = service(type="NodePort", clusterIP="10.43.1.1", ports=[{"port": 80, "nodePort": 30080}])
    r.ips.hold(int(ipaddress.IPv4Address("10.43.1.1")), OWNER)
    r.ports.hold(30080, OWNER)
    new = update(old, selector={"app": "web"})
    plan = plan_allocations(r, new, old, OWNER, NOW)
    assert plan.causes == [] and plan.ips == [] and plan.ports == []


def test_cluster_ip_to_node_port_allocates_node_ports() -> None:
    """Changing type ClusterIP -> NodePort fills in node ports and keeps the address."""
    old = service(clusterIP="10.43.1.1")
    new = update(old, type="NodePort")
    plan = plan_allocations(ranges(), new, old, OWNER, NOW)
    assert plan.ips == [] and plan.ports == [new["spec"]["ports"][0]["nodePort"]]


def test_node_port_to_cluster_ip_drops_node_ports() -> None:
    """Changing type NodePort -> ClusterIP clears node ports and plans nothing (the informer releases)."""
    old = service(type="NodePort", clusterIP="10.43.1.1", ports=[{"port": 80, "nodePort": 30080}])
    new = update(old, type="ClusterIP")
    plan = plan_allocations(ranges(), new, old, OWNER, NOW)
    assert plan.ports == [] and "nodePort" not in new["spec"]["ports"][0]
    assert holding(new).node_ports == frozenset()


def test_external_name_to_cluster_ip_allocates_an_address() -> None:
    """Leaving ExternalName gives the Service an address."""
    old = service(type="ExternalName", externalName="db.example.com", ports=[])
    new = update(old, type="ClusterIP", externalName=None, ports=[{"port": 80}])
    plan = plan_allocations(ranges(), new, old, OWNER, NOW)
    assert plan.ips == [ip_value(new["spec"]["clusterIP"])]
