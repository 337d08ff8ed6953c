"""Node facts: pod CIDR from the Node, MTU rules, node.json, veth names, resolv.conf fallback."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from agent.network.discovering import interface_of, load_node, pod_cidr_of, pod_mtu, store_node
from agent.network.dnsfiles import DnsFileWriter, fallback_resolv_conf
from agent.network.local import LocalNode
from agent.network.wiring import host_veth_name
from agent.settings import NetworkSettings


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, None),
        ({"podCIDR": "10.42.3.0/24"}, "10.42.3.0/24"),
        ({"podCIDRs": ["fd00::/64", "10.42.4.0/24"]}, "10.42.4.0/24"),
        ({"podCIDR": "garbage"}, None),
    ],
)
def test_pod_cidr_of(spec: dict[str, Any], expected: str | None) -> None:
    """The first IPv4 CIDR of spec.podCIDR / podCIDRs."""
    got = pod_cidr_of({"spec": spec})
    assert (str(got) if got else None) == expected


@pytest.mark.parametrize(
    ("backend", "override", "interface_mtu", "expected"),
    [("host-gw", 0, 1500, 1500), ("vxlan", 0, 1500, 1450), ("vxlan", 1400, 1500, 1400), ("host-gw", 9000, 1500, 9000)],
)
def test_pod_mtu(backend: str, override: int, interface_mtu: int, expected: int) -> None:
    """The interface's MTU, less 50 for vxlan; settings.mtu wins."""
    assert pod_mtu(NetworkSettings(backend=backend, mtu=override), interface_mtu) == expected


def test_loopback_node_ip_means_lo_with_1500() -> None:
    """The embedded agent's 127.0.0.1 is on lo, and pods get MTU 1500 (not lo's 65536)."""
    assert interface_of(ipaddress.IPv4Address("127.0.0.1")) == ("lo", 1500)


def test_node_json_round_trip(tmp_path: Path) -> None:
    """node.json gives back the same LocalNode; a missing file gives None."""
    assert load_node(tmp_path) is None
    node = LocalNode("n1", ipaddress.IPv4Address("10.0.0.7"), ipaddress.IPv4Network("10.42.3.0/24"), "eth0", 1450)
    store_node(tmp_path / "network", node)
    assert load_node(tmp_path / "network") == node


@pytest.mark.parametrize(
    ("uid", "name"),
    [("1a2b3c4d-5e6f-7080-90a0-b0c0d0e0f000", "ekv1a2b3c4d"), ("ABCDEF", "ekvabcdef00")],
)
def test_host_veth_name(uid: str, name: str) -> None:
    """ekv + 8 hex digits of the uid; short uids are padded."""
    assert host_veth_name(uid) == name


async def test_fallback_resolv_conf_is_cluster_first(tmp_path: Path) -> None:
    """Without agent.dns.podfiles every pod gets the cluster resolver and the search path."""
    settings = NetworkSettings(resolv_conf=str(tmp_path / "missing"))
    writer = DnsFileWriter(tmp_path / "pods", settings, render=fallback_resolv_conf)
    path = await writer.write({"metadata": {"uid": "u1", "namespace": "web"}, "spec": {}})
    assert path == tmp_path / "pods" / "u1" / "resolv.conf"
    assert path.read_text() == (
        "nameserver 10.43.0.10\nsearch web.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
    )
