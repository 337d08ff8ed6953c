"""Which addresses a LoadBalancer Service announces: the InternalIP of every Ready, schedulable node.

Pure functions over plain Service and Node dicts (never mutated). The ingress list is
sorted by address (numerically, so 10.0.0.9 comes before 10.0.0.10) and holds each
address once, so the same set of nodes always gives the same list and a resync writes
nothing. Traffic to `<node IP>:<port>` reaches the Service through the agents' NAT rules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from edgekube.resources.kinds.common_fields import items, mapping, text
from edgekube.resources.kinds.common_service_writes import LOAD_BALANCER, service_type
from edgekube.resources.objects import Obj, get_path


def is_ours(svc: Obj) -> bool:
    """A LoadBalancer Service without a `loadBalancerClass` (a class names another implementation)."""
    return service_type(svc) == LOAD_BALANCER and not text(get_path(svc, "spec", "loadBalancerClass"))


def serves_traffic(node: Obj) -> bool:
    """Ready=True and not cordoned: a node whose address may take load balancer traffic."""
    if get_path(node, "spec", "unschedulable") is True:
        return False
    ready = next((c for _, c in items(get_path(node, "status", "conditions")) if c.get("type") == "Ready"), None)
    return ready is not None and ready.get("status") == "True"


def internal_ip(node: Obj) -> str | None:
    """The node's first InternalIP that is an IP address, or None."""
    for _, address in items(get_path(node, "status", "addresses")):
        if address.get("type") != "InternalIP":
            continue
        try:
            return str(ipaddress.ip_address(text(address.get("address"))))
        except ValueError:
            continue
    return None


def node_ingress(nodes: Iterable[Obj]) -> list[Obj]:
    """`[{"ip": ...}, ...]` for the nodes that serve traffic, sorted, each address once."""
    found = {ip for node in nodes if serves_traffic(node) and (ip := internal_ip(node)) is not None}
    ordered = sorted((ipaddress.ip_address(ip) for ip in found), key=lambda ip: (ip.version, int(ip)))
    return [{"ip": str(ip)} for ip in ordered]


def current_ingress(svc: Obj) -> list[Obj]:
    return [dict(entry) for _, entry in items(get_path(svc, "status", "loadBalancer", "ingress"))]


def desired_ingress(svc: Obj, nodes: Iterable[Obj]) -> list[Obj] | None:
    """What `status.loadBalancer.ingress` should hold; None when the Service is not ours to touch.

    A Service of another type gets an empty list (its old entries are cleared); one with a
    `loadBalancerClass` is another controller's business.
    """
    if service_type(svc) == LOAD_BALANCER:
        return node_ingress(nodes) if is_ours(svc) else None
    return []


def node_view(node: Obj) -> tuple[bool, str | None]:
    """The facts of a node this controller reacts to: an update changing neither is ignored."""
    return serves_traffic(node), internal_ip(node)


def load_balancer_status(svc: Obj) -> Obj:
    return mapping(get_path(svc, "status", "loadBalancer"))
