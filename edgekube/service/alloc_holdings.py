"""What one Service holds from the shared ranges, and which allocations its type asks for.

Reads plain (already defaulted) Service dicts and never mutates them. A Service holds
its cluster IP unless it is headless or ExternalName, and every nodePort and
healthCheckNodePort it carries, whatever its type: a stored value is taken until the
Service lets go of it, so counting too much is the safe mistake.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from edgekube.resources.kinds.common_fields import integer, items, mapping, text
from edgekube.resources.kinds.common_service_writes import (
    EXTERNAL_NAME,
    HEADLESS,
    LOAD_BALANCER,
    NODE_PORT,
    service_type,
)
from edgekube.resources.objects import Obj


@dataclass(frozen=True, slots=True)
class Holding:
    """The cluster IP (as an int) and node ports of one stored Service."""

    ip: int | None = None
    node_ports: frozenset[int] = frozenset()


NOTHING = Holding()


def ip_value(value: object) -> int | None:
    """An IPv4 address as an int; None for anything else (empty, "None", IPv6, garbage)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(ipaddress.IPv4Address(value))
    except ValueError:
        return None


def ip_text(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def has_cluster_ip(svc: Obj) -> bool:
    """Every type but ExternalName gets a virtual IP, unless headless (`clusterIP: None`)."""
    spec = mapping(svc.get("spec"))
    return service_type(svc) != EXTERNAL_NAME and spec.get("clusterIP") != HEADLESS


def allocates_node_ports(svc: Obj) -> bool:
    """NodePort always; LoadBalancer unless `allocateLoadBalancerNodePorts: false`."""
    kind = service_type(svc)
    allocate = mapping(svc.get("spec")).get("allocateLoadBalancerNodePorts")
    return kind == NODE_PORT or (kind == LOAD_BALANCER and allocate is not False)


def needs_health_check_port(svc: Obj) -> bool:
    """A LoadBalancer with `externalTrafficPolicy: Local` tells load balancers which nodes have endpoints."""
    spec = mapping(svc.get("spec"))
    return service_type(svc) == LOAD_BALANCER and spec.get("externalTrafficPolicy") == "Local"


def node_ports_of(svc: Obj) -> frozenset[int]:
    spec = mapping(svc.get("spec"))
    found = {integer(p.get("nodePort")) for _, p in items(spec.get("ports"))}
    found.add(integer(spec.get("healthCheckNodePort")))
    return frozenset(n for n in found if n)


def holding(svc: Obj) -> Holding:
    spec = mapping(svc.get("spec"))
    ip = ip_value(text(spec.get("clusterIP"))) if has_cluster_ip(svc) else None
    return Holding(ip, node_ports_of(svc))
