"""What the route reconciler compares: the routes, VXLAN fdb entries and neighbours to other nodes.

One `RouteState` describes either what the Nodes call for (`routes_desired`) or what the
kernel holds (`routes_kernel.read_state`); `routes_diffing.diff` turns the pair into a `Plan`.
All values are plain, hashable and free of kernel handles, so the whole comparison is pure
and table-tested.

Ownership, the invariant every other module relies on: a route is ours when it is IPv4, in
the main table, carries `proto 101` and has a gateway (a path to another node's pod CIDR).
The fdb entries and neighbours that count are those on our VXLAN device only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

ROUTE_PROTO = 101
"""rtm_protocol on every route we add (0x65), so reads and cleanup see exactly ours."""
MAIN_TABLE = 254
VXLAN_DEVICE = "ek-vxlan"
"""Name of the VXLAN device (backend vxlan); no other link of that name is expected."""


@dataclass(frozen=True, order=True)
class RemoteNode:
    """Another node that has a pod CIDR and an InternalIP, i.e. one that needs a path."""

    name: str
    ip: ipaddress.IPv4Address
    pod_cidr: ipaddress.IPv4Network

    @property
    def vtep_address(self) -> ipaddress.IPv4Address:
        """Its VXLAN device's address: the network address of its pod CIDR (flannel's scheme)."""
        return self.pod_cidr.network_address


@dataclass(frozen=True)
class Skip:
    """A node that gets no path, and why (logged once per change, not at every resync)."""

    node: str
    reason: str


@dataclass(frozen=True, order=True)
class Route:
    """`dst via gateway` (host-gw), or `dst via gateway dev ek-vxlan onlink` (vxlan)."""

    dst: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    device: str | None = None
    """The device a desired route must use (None: whichever the kernel picks for the gateway).
    In a state read from the kernel: the device it uses."""
    onlink: bool = False

    def satisfies(self, desired: Route) -> bool:
        """Whether this (actual) route does what `desired` asks for."""
        return (
            self.dst == desired.dst
            and self.gateway == desired.gateway
            and self.onlink == desired.onlink
            and (desired.device is None or self.device == desired.device)
        )

    def __str__(self) -> str:
        text = f"{self.dst} via {self.gateway}"
        if self.device is not None:
            text += f" dev {self.device}"
        return text + (" onlink" if self.onlink else "")


@dataclass(frozen=True, order=True)
class FdbEntry:
    """Frames for `mac` go in a VXLAN packet to `dst` (the remote node's IP)."""

    mac: str
    dst: ipaddress.IPv4Address

    def __str__(self) -> str:
        return f"fdb {self.mac} dst {self.dst}"


@dataclass(frozen=True, order=True)
class Neighbour:
    """A permanent ARP entry: the remote VTEP address `ip` has MAC `mac`."""

    ip: ipaddress.IPv4Address
    mac: str

    def __str__(self) -> str:
        return f"neigh {self.ip} lladdr {self.mac}"


@dataclass
class RouteState:
    routes: dict[ipaddress.IPv4Network, Route] = field(default_factory=dict)
    """By destination: the kernel's main table holds one route per prefix (metric aside)."""
    fdb: set[FdbEntry] = field(default_factory=set)
    neighbours: dict[ipaddress.IPv4Address, Neighbour] = field(default_factory=dict)
    """Only permanent ones: a learned or failed entry is treated as missing and replaced."""


@dataclass
class Plan:
    """Changes that bring the kernel to the desired state; empty when it is there already."""

    replace_routes: list[Route] = field(default_factory=list)
    delete_routes: list[Route] = field(default_factory=list)
    add_fdb: list[FdbEntry] = field(default_factory=list)
    delete_fdb: list[FdbEntry] = field(default_factory=list)
    replace_neighbours: list[Neighbour] = field(default_factory=list)
    delete_neighbours: list[Neighbour] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (
                self.replace_routes,
                self.delete_routes,
                self.add_fdb,
                self.delete_fdb,
                self.replace_neighbours,
                self.delete_neighbours,
            )
        )

    def summary(self) -> dict[str, list[str]]:
        """Non-empty parts as text, for logs and the e2e driver."""
        parts: dict[str, list[Route] | list[FdbEntry] | list[Neighbour]] = {
            "replace_routes": self.replace_routes,
            "delete_routes": self.delete_routes,
            "add_fdb": self.add_fdb,
            "delete_fdb": self.delete_fdb,
            "replace_neighbours": self.replace_neighbours,
            "delete_neighbours": self.delete_neighbours,
        }
        return {name: [str(item) for item in items] for name, items in parts.items() if items}
