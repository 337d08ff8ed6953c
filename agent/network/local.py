"""`LocalNode`: what every networking part needs to know about the node it runs on.

Built once the server has given the node its pod CIDR (`Node.spec.podCIDR`) and kept on
disk, so an agent restarted while the server is away wires its pods the same way.

    pod CIDR 10.42.3.0/24 -> bridge address 10.42.3.1/24, pods 10.42.3.2 .. 10.42.3.254
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalNode:
    name: str
    """The Node's name."""
    ip: ipaddress.IPv4Address
    """Its InternalIP: where other nodes send traffic for this node's pods."""
    pod_cidr: ipaddress.IPv4Network
    """This node's share of the cluster CIDR, e.g. 10.42.3.0/24."""
    interface: str
    """The device holding `ip` (node-to-node traffic leaves through it)."""
    mtu: int
    """MTU of pod interfaces and the bridge (already less the overlay's overhead)."""

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        """The bridge's address and every pod's default route: the first address of the pod CIDR."""
        return self.pod_cidr.network_address + 1

    @property
    def gateway_interface(self) -> ipaddress.IPv4Interface:
        return ipaddress.IPv4Interface(f"{self.gateway}/{self.pod_cidr.prefixlen}")


def vtep_mac(node_ip: ipaddress.IPv4Address) -> str:
    """The VXLAN device's MAC address of the node with `node_ip`, derived so no node has to publish it.

    0e:6b + the four bytes of the IP: 0x0e is a locally administered unicast prefix.
    10.0.0.7 -> 0e:6b:0a:00:00:07
    """
    return ":".join(f"{b:02x}" for b in (0x0E, 0x6B, *node_ip.packed))
