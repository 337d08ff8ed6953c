"""Desired routes from Node objects: which nodes get a path, and what each backend asks for."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from agent.network.local import LocalNode
from agent.network.routes_desired import host_gw_state, remote_nodes, vxlan_state
from agent.network.routes_states import FdbEntry, Neighbour, RemoteNode, Route

IP = ipaddress.IPv4Address
NET = ipaddress.IPv4Network
LOCAL = LocalNode("a", IP("198.18.0.2"), NET("10.42.0.0/24"), "eth0", 1450)


def node(name: str, cidr: str | None = None, ip: str | None = None, **spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": name}, "spec": dict(spec), "status": {}}
    if cidr is not None:
        obj["spec"]["podCIDR"] = cidr
    if ip is not None:
        obj["status"]["addresses"] = [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}]
    return obj


@pytest.mark.parametrize(
    ("nodes", "names", "skips"),
    [
        ([node("a", "10.42.0.0/24", "198.18.0.2"), node("b", "10.42.1.0/24", "198.18.0.3")], ["b"], []),
        ([node("b", None, "198.18.0.3"), node("c", "10.42.2.0/24", None)], [], []),
        ([node("b", podCIDRs=["fd00::/64", "10.42.1.0/24"], ip="198.18.0.3")], ["b"], []),
        ([node("b", "10.42.0.0/16", "198.18.0.3")], [], ["b"]),
        ([node("b", "10.42.1.0/24", "198.18.0.2")], [], ["b"]),
        ([node("b", "10.42.1.0/24", "198.18.0.3"), node("c", "10.42.1.0/25", "198.18.0.4")], ["b"], ["c"]),
        ([node("c", "10.42.1.0/24", "198.18.0.4"), node("b", "10.42.1.0/24", "198.18.0.3")], ["b"], ["c"]),
        ([node("b", "10.42.1.5/24", "198.18.0.3"), node("c", "10.42.2.0/24", "not-an-ip")], [], ["b", "c"]),
    ],
    ids=["self-excluded", "joining", "podCIDRs-v4", "overlaps-ours", "our-ip", "overlap", "name-order", "bad"],
)
def test_remote_nodes(nodes: list[dict[str, Any]], names: list[str], skips: list[str]) -> None:
    """Other nodes with a pod CIDR and an InternalIP get a path; conflicts are refused by name order."""
    remotes, skipped = remote_nodes(nodes, LOCAL)
    assert [r.name for r in remotes] == names
    assert [s.node for s in skipped] == skips


B = RemoteNode("b", IP("198.18.0.3"), NET("10.42.1.0/24"))
C = RemoteNode("c", IP("203.0.113.9"), NET("10.42.2.0/24"))


def test_host_gw_routes_via_node_ips_on_connected_subnets() -> None:
    """host-gw: route via each node's IP; a node off every connected subnet is skipped with a reason."""
    state, skipped = host_gw_state([B, C], [NET("198.18.0.0/24")])
    assert state.routes == {B.pod_cidr: Route(B.pod_cidr, B.ip)}
    assert not state.fdb and not state.neighbours
    assert [s.node for s in skipped] == ["c"] and "203.0.113.9" in skipped[0].reason


def test_vxlan_entries_per_node() -> None:
    """vxlan: an fdb entry to the node IP, a permanent neighbour for its VTEP and an onlink route."""
    state = vxlan_state([B])
    mac = "0e:6b:c6:12:00:03"
    assert state.fdb == {FdbEntry(mac, B.ip)}
    assert state.neighbours == {IP("10.42.1.0"): Neighbour(IP("10.42.1.0"), mac)}
    assert state.routes == {B.pod_cidr: Route(B.pod_cidr, IP("10.42.1.0"), "ek-vxlan", onlink=True)}
