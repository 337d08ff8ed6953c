"""Addresses for simulated nodes and pods. Nothing ever sends traffic to them.

Node InternalIPs come from the documentation ranges (RFC 5737): 192.0.2.0/24 first, then
198.51.100.0/24 and 203.0.113.0/24, and past those 762 nodes from 2001:db8::/32 (RFC 3849),
so a simulated node can never be mistaken for a real machine. Pod IPs come from the
node's `spec.podCIDR` when the cluster assigned one, else from 10.42.N.0/24 (the default
cluster CIDR, N = node index mod 256).
"""

from __future__ import annotations

import ipaddress

_DOC_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
_DOC_V6 = ipaddress.ip_network("2001:db8::/32")
_HOSTS_PER_NET = 254  # .1 to .254


def node_ip(index: int) -> str:
    """The InternalIP of the node with `index` (0-based)."""
    net, host = divmod(index, _HOSTS_PER_NET)
    if net < len(_DOC_NETS):
        return str(_DOC_NETS[net].network_address + host + 1)
    return str(_DOC_V6.network_address + index + 1)


def default_pod_cidr(index: int) -> str:
    return f"10.42.{index % 256}.0/24"


class IpPool:
    """Pod addresses of one node: the lowest free host of its pod CIDR, from .2 (.1 is the bridge)."""

    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr, strict=False)
        self._first = int(self.network.network_address) + 2
        self._size = max(1, self.network.num_addresses - 3)  # network, bridge, broadcast
        self._used: set[int] = set()
        self._next = 0

    def __contains__(self, ip: str) -> bool:
        try:
            return ipaddress.ip_address(ip) in self.network
        except ValueError:
            return False

    def claim(self, ip: str) -> None:
        """Mark an address already in use (a pod that ran before the simulator restarted)."""
        if ip in self:
            self._used.add(int(ipaddress.ip_address(ip)) - self._first)

    def allocate(self) -> str:
        """A free address; when all are taken (a tiny CIDR), addresses are handed out again."""
        for step in range(self._size):
            offset = (self._next + step) % self._size
            if offset not in self._used:
                self._used.add(offset)
                self._next = (offset + 1) % self._size
                return str(ipaddress.ip_address(self._first + offset))
        offset, self._next = self._next, (self._next + 1) % self._size
        return str(ipaddress.ip_address(self._first + offset))

    def release(self, ip: str) -> None:
        if ip in self:
            self._used.discard(int(ipaddress.ip_address(ip)) - self._first)
