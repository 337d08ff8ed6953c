"""Desired routes from the Node objects: pure functions, no kernel, no I/O.

Nodes in -> `RemoteNode`s (other nodes with a pod CIDR and an IPv4 InternalIP) -> the
`RouteState` one backend calls for, plus the nodes skipped and why.

    host-gw, remote 10.42.1.0/24 at 198.18.0.3:
        route 10.42.1.0/24 via 198.18.0.3                    (198.18.0.3 must be on-link)
    vxlan, same remote:
        fdb 0e:6b:c6:12:00:03 dst 198.18.0.3                 (vtep_mac of its IP)
        neigh 10.42.1.0 lladdr 0e:6b:c6:12:00:03 permanent   (its VTEP address)
        route 10.42.1.0/24 via 10.42.1.0 dev ek-vxlan onlink

Invariants: our own node never gets a route; no two routes share or overlap a destination
(the first node by name keeps a contested CIDR); a pod CIDR overlapping ours is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from agent.network.local import LocalNode, vtep_mac
from agent.network.routes_states import VXLAN_DEVICE, FdbEntry, Neighbour, RemoteNode, Route, RouteState, Skip

Obj = dict[str, Any]


def remote_nodes(nodes: Iterable[Obj], local: LocalNode) -> tuple[list[RemoteNode], list[Skip]]:
    """The other nodes that need a path, sorted by name, and the ones refused with a reason.

    A node without a pod CIDR or an InternalIP yet is neither: it is still joining and shows up
    once the server has filled both in.
    """
    remotes: list[RemoteNode] = []
    skipped: list[Skip] = []
    for obj in sorted(nodes, key=lambda o: str(o.get("metadata", {}).get("name", ""))):
        name = str(obj.get("metadata", {}).get("name", ""))
        if not name or name == local.name:
            continue
        cidr_text = _pod_cidr(obj)
        ip_text = _internal_ip(obj)
        if cidr_text is None or ip_text is None:
            continue
        try:
            cidr = ipaddress.IPv4Network(cidr_text)
            ip = ipaddress.IPv4Address(ip_text)
        except ValueError as err:
            skipped.append(Skip(name, f"bad podCIDR or InternalIP: {err}"))
            continue
        reason = _refusal(cidr, ip, local, remotes)
        if reason:
            skipped.append(Skip(name, reason))
            continue
        remotes.append(RemoteNode(name, ip, cidr))
    return remotes, skipped


def _pod_cidr(node: Obj) -> str | None:
    spec = node.get("spec") or {}
    cidrs = [spec["podCIDR"]] if spec.get("podCIDR") else list(spec.get("podCIDRs") or [])
    # Dual-stack nodes list an IPv6 CIDR too; this network is IPv4 only.
    return next((str(c) for c in cidrs if ":" not in str(c)), None)


def _internal_ip(node: Obj) -> str | None:
    addresses = (node.get("status") or {}).get("addresses") or []
    return next(
        (str(a["address"]) for a in addresses if a.get("type") == "InternalIP" and ":" not in str(a.get("address"))),
        None,
    )


def _refusal(cidr: ipaddress.IPv4Network, ip: ipaddress.IPv4Address, local: LocalNode, taken: list[RemoteNode]) -> str:
    if cidr.overlaps(local.pod_cidr):
        return f"podCIDR {cidr} overlaps this node's {local.pod_cidr}"
    if ip == local.ip:
        return f"InternalIP {ip} is this node's own address"
    for other in taken:
        if cidr.overlaps(other.pod_cidr):
            return f"podCIDR {cidr} overlaps node {other.name}'s {other.pod_cidr}"
    return ""


def host_gw_state(
    remotes: Iterable[RemoteNode], connected: Iterable[ipaddress.IPv4Network]
) -> tuple[RouteState, list[Skip]]:
    """Routes via each node's IP; nodes whose IP is on none of the `connected` subnets are skipped.

    A gateway must be on-link: a router between the nodes would drop packets to pod IPs it has
    no route for, so such a node needs the vxlan backend instead.
    """
    networks = list(connected)
    state, skipped = RouteState(), []
    for remote in remotes:
        if not any(remote.ip in net for net in networks):
            skipped.append(
                Skip(
                    remote.name,
                    f"InternalIP {remote.ip} is not on a directly connected subnet "
                    f"({', '.join(map(str, networks)) or 'none'}); host-gw cannot reach it, "
                    "use --flannel-backend vxlan",
                )
            )
            continue
        state.routes[remote.pod_cidr] = Route(remote.pod_cidr, remote.ip)
    return state, skipped


def vxlan_state(remotes: Iterable[RemoteNode]) -> RouteState:
    """Per remote node: an fdb entry to its IP, a permanent neighbour for its VTEP, an onlink route."""
    state = RouteState()
    for remote in remotes:
        mac = vtep_mac(remote.ip)
        state.fdb.add(FdbEntry(mac, remote.ip))
        state.neighbours[remote.vtep_address] = Neighbour(remote.vtep_address, mac)
        state.routes[remote.pod_cidr] = Route(remote.pod_cidr, remote.vtep_address, VXLAN_DEVICE, onlink=True)
    return state
