"""The NetworkPolicy plan of one node: for each local pod, what it may receive and send.

`policy_resolving` builds a `FilterPlan` from the API's objects; `policy_rendering` turns
it into nft text. Everything is resolved to addresses and port numbers already (selectors,
namespaces and named ports are gone), and every collection is sorted and free of
duplicates, so two plans of the same cluster state are equal and render to the same text.

    PodFilter(ip=10.42.3.7, ingress=None, egress=())    # receives anything, sends nothing
    PodFilter(ip=10.42.3.8, ingress=(Allow(AddressSet((10.42.1.4,)), (PortRange("tcp", 80, 80),)),),
              egress=None)                              # only 10.42.1.4 may reach tcp/80
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class PortRange:
    protocol: str
    """tcp, udp or sctp."""
    first: int
    """First port; 0 together with `last` 65535 stands for every port of `protocol`."""
    last: int

    @property
    def every_port(self) -> bool:
        return self.first == 0 and self.last == 65535


@dataclass(frozen=True)
class AddressSet:
    """Pod addresses, sorted; never empty."""

    addresses: tuple[ipaddress.IPv4Address, ...]


@dataclass(frozen=True)
class CidrBlock:
    """A CIDR less some of its parts (an ipBlock with `except`)."""

    cidr: ipaddress.IPv4Network
    excepted: tuple[ipaddress.IPv4Network, ...]


Peers = AddressSet | CidrBlock


@dataclass(frozen=True)
class Allow:
    """Traffic from (ingress) or to (egress) `peers` on `ports` is allowed."""

    peers: Peers | None
    """None: any address."""
    ports: tuple[PortRange, ...]
    """Empty: any port of any protocol. Otherwise sorted and merged per protocol."""


@dataclass(frozen=True)
class PodFilter:
    """One pod of this node that some policy isolates, in one direction at least."""

    key: str
    """namespace/name, for comments and logs."""
    ip: ipaddress.IPv4Address
    ingress: tuple[Allow, ...] | None
    """None: not isolated for ingress (anything may reach it); () : nothing may."""
    egress: tuple[Allow, ...] | None


@dataclass(frozen=True)
class FilterPlan:
    table: str
    """Name of our `ip` table, e.g. edgekube_filter."""
    pod_cidr: ipaddress.IPv4Network
    """This node's pods; traffic to and from elsewhere is none of the table's business."""
    pods: tuple[PodFilter, ...]
    """Isolated local pods, sorted by address. Empty: the table is not needed at all."""
