"""The kernel side of routes to other nodes: read our state, apply a plan, remove everything. Blocking.

Kernel in -> `RouteState` (only our routes: IPv4, main table, proto 101, with a gateway;
only the VXLAN device's fdb entries with a remote and its permanent IPv4 neighbours).
`Plan` in -> netlink calls, each tried on its own: one refused route (a gateway that went
off-link) must not keep the others from being written; failures are returned, and the next
reconcile tries again. Every function takes an open pyroute2 `IPRoute` and runs in a worker
thread (`asyncio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from functools import partial
from typing import Any

from agent.network.netlink import IPRoute
from agent.network.routes_states import (
    MAIN_TABLE,
    ROUTE_PROTO,
    FdbEntry,
    Neighbour,
    Plan,
    Route,
    RouteState,
)

RTNH_F_ONLINK = 4
NUD_PERMANENT = 0x80


def read_routes(ipr: IPRoute) -> dict[ipaddress.IPv4Network, Route]:
    """Our routes by destination (see the module docstring for what counts as ours)."""
    names = _link_names(ipr)
    routes: dict[ipaddress.IPv4Network, Route] = {}
    for msg in ipr.route("dump", family=socket.AF_INET, proto=ROUTE_PROTO):
        gateway = msg.get_attr("RTA_GATEWAY")
        table = msg.get_attr("RTA_TABLE") or msg["table"]
        if msg["proto"] != ROUTE_PROTO or table != MAIN_TABLE or not gateway:
            continue
        dst = ipaddress.IPv4Network(f"{msg.get_attr('RTA_DST') or '0.0.0.0'}/{msg['dst_len']}")
        oif = msg.get_attr("RTA_OIF")
        routes[dst] = Route(
            dst,
            ipaddress.IPv4Address(gateway),
            names.get(oif) if oif is not None else None,
            onlink=bool(msg["flags"] & RTNH_F_ONLINK),
        )
    return routes


def read_state(ipr: IPRoute, vxlan_index: int | None, exclude: ipaddress.IPv4Network | None = None) -> RouteState:
    """Our routes (but none to `exclude`, this node's own pod CIDR) and the VXLAN device's entries."""
    state = RouteState(routes={dst: r for dst, r in read_routes(ipr).items() if dst != exclude})
    if vxlan_index is None:
        return state
    for msg in ipr.fdb("dump", ifindex=vxlan_index):
        mac, dst = msg.get_attr("NDA_LLADDR"), msg.get_attr("NDA_DST")
        # Entries without a remote are the kernel's own (e.g. the device's address); not ours.
        if msg["ifindex"] == vxlan_index and mac and dst and ":" not in dst:
            state.fdb.add(FdbEntry(mac, ipaddress.IPv4Address(dst)))
    for msg in ipr.neigh("dump", ifindex=vxlan_index, family=socket.AF_INET):
        ip, mac = msg.get_attr("NDA_DST"), msg.get_attr("NDA_LLADDR")
        if msg["ifindex"] == vxlan_index and msg["state"] & NUD_PERMANENT and ip and mac:
            address = ipaddress.IPv4Address(ip)
            state.neighbours[address] = Neighbour(address, mac)
    return state


def connected_networks(ipr: IPRoute, interface: str, ignore: set[str]) -> list[ipaddress.IPv4Network]:
    """Subnets of `interface`'s IPv4 addresses ('' : of every device but those in `ignore`)."""
    names = _link_names(ipr)
    networks = []
    for msg in ipr.get_addr(family=socket.AF_INET):
        name = names.get(msg["index"], "")
        if (interface and name != interface) or (not interface and name in ignore):
            continue
        address = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
        networks.append(ipaddress.IPv4Network(f"{address}/{msg['prefixlen']}", strict=False))
    return networks


def apply_plan(ipr: IPRoute, plan: Plan, vxlan_index: int | None) -> list[str]:
    """Carry out `plan`: additions first, so a node that moved is never without a path; the failures."""
    steps: list[tuple[str, Callable[[], Any]]] = []
    for entry in plan.add_fdb:
        steps.append(
            (str(entry), partial(ipr.fdb, "append", ifindex=vxlan_index, lladdr=entry.mac, dst=str(entry.dst)))
        )
    for nb in plan.replace_neighbours:
        call = partial(ipr.neigh, "replace", dst=str(nb.ip), lladdr=nb.mac, ifindex=vxlan_index, state=NUD_PERMANENT)
        steps.append((str(nb), call))
    for route in plan.replace_routes:
        steps.append((f"route {route}", partial(_replace_route, ipr, route)))
    for route in plan.delete_routes:
        steps.append((f"delete route {route}", partial(_delete_route, ipr, route)))
    for nb in plan.delete_neighbours:
        steps.append((f"delete {nb}", partial(ipr.neigh, "del", dst=str(nb.ip), lladdr=nb.mac, ifindex=vxlan_index)))
    for entry in plan.delete_fdb:
        call = partial(ipr.fdb, "del", ifindex=vxlan_index, lladdr=entry.mac, dst=str(entry.dst))
        steps.append((f"delete {entry}", call))
    failures = []
    for what, step in steps:
        try:
            step()
        except Exception as err:  # netlink errors carry errno and text; report, go on with the rest
            failures.append(f"{what}: {err}")
    return failures


def remove_all_routes(ipr: IPRoute) -> list[str]:
    """Delete every route of ours (any node, any backend); what was deleted."""
    removed = []
    for route in read_routes(ipr).values():
        _delete_route(ipr, route)
        removed.append(f"route {route}")
    return removed


def _replace_route(ipr: IPRoute, route: Route) -> None:
    args: dict[str, Any] = {
        "dst": str(route.dst),
        "gateway": str(route.gateway),
        "table": MAIN_TABLE,
        "proto": ROUTE_PROTO,
    }
    if route.device is not None:
        found = ipr.link_lookup(ifname=route.device)
        if not found:
            raise LookupError(f"device {route.device} does not exist")
        args["oif"] = found[0]
    if route.onlink:
        args["flags"] = RTNH_F_ONLINK
    ipr.route("replace", **args)


def _delete_route(ipr: IPRoute, route: Route) -> None:
    # Deleting by destination, gateway and protocol only: never a same-prefix route someone else added.
    ipr.route("del", dst=str(route.dst), gateway=str(route.gateway), table=MAIN_TABLE, proto=ROUTE_PROTO)


def _link_names(ipr: IPRoute) -> dict[int, str]:
    return {int(link["index"]): str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()}
