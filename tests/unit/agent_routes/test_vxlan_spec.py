"""The VXLAN device wanted from the settings, and which differences force it to be recreated."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from agent.network.local import LocalNode
from agent.network.vxlan_devices import fixed_mismatches, vxlan_spec
from agent.settings import NetworkSettings

NODE = LocalNode("a", ipaddress.IPv4Address("198.18.0.2"), ipaddress.IPv4Network("10.42.3.0/24"), "eth0", 1450)
SPEC = vxlan_spec(NetworkSettings(backend="vxlan"), NODE)
GOOD = {"IFLA_VXLAN_ID": 1, "IFLA_VXLAN_PORT": 8472, "IFLA_VXLAN_LOCAL": "198.18.0.2", "IFLA_VXLAN_LEARNING": 0}


def test_spec_follows_flannel_scheme() -> None:
    """MAC from the node IP, the pod network address as a /32, the node's MTU and interface."""
    assert (SPEC.name, SPEC.vni, SPEC.port, SPEC.link, SPEC.mtu) == ("ek-vxlan", 1, 8472, "eth0", 1450)
    assert SPEC.mac == "0e:6b:c6:12:00:02"
    assert str(SPEC.address) == "10.42.3.0/32"


@pytest.mark.parametrize(
    ("kind", "changes", "link", "wrong"),
    [
        ("vxlan", {}, None, []),
        ("vxlan", {"IFLA_VXLAN_LINK": 3}, 3, []),
        ("vxlan", {"IFLA_VXLAN_LINK": 3}, 4, ["IFLA_VXLAN_LINK"]),
        ("vxlan", {"IFLA_VXLAN_ID": 7}, None, ["IFLA_VXLAN_ID"]),
        ("vxlan", {"IFLA_VXLAN_PORT": 4789}, None, ["IFLA_VXLAN_PORT"]),
        ("vxlan", {"IFLA_VXLAN_LOCAL": "198.18.0.12"}, None, ["IFLA_VXLAN_LOCAL"]),
        ("vxlan", {"IFLA_VXLAN_LEARNING": 1}, None, ["IFLA_VXLAN_LEARNING"]),
        ("bridge", {}, None, ["kind"]),
    ],
)
def test_fixed_mismatches(kind: str, changes: dict[str, Any], link: int | None, wrong: list[str]) -> None:
    """A device is reused only when VNI, port, local address, underlying device and learning match."""
    found = fixed_mismatches(SPEC, kind, {**GOOD, **changes}, link)
    assert [text.split()[0] for text in found] == wrong
