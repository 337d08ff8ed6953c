"""The cells of `kubectl get services`: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), SELECTOR.

Text matches kubectl's server-side printer for Services ("80:30080/TCP", "<pending>"),
so scripts that parse `kubectl get svc` output keep working.
"""

from __future__ import annotations

from typing import Any

from edgekube.resources.kinds.common_fields import integer, items, mapping, strings, text
from edgekube.resources.kinds.common_service_writes import (
    CLUSTER_IP,
    EXTERNAL_NAME,
    LOAD_BALANCER,
    NODE_PORT,
)
from edgekube.resources.kinds.common_tables import format_labels
from edgekube.resources.objects import Obj, get_path


def cluster_ip_cell(svc: Obj) -> str:
    """The primary cluster IP ("None" for headless), or "<none>" before allocation."""
    spec = mapping(svc.get("spec"))
    ips = strings(spec.get("clusterIPs"))
    return ips[0] if ips else text(spec.get("clusterIP")) or "<none>"


def external_ip_cell(svc: Obj) -> str:
    """What clients outside the cluster use; "<pending>" while a load balancer is awaited."""
    spec = mapping(svc.get("spec"))
    external_ips = strings(spec.get("externalIPs"))
    kind = spec.get("type")
    if kind in (CLUSTER_IP, NODE_PORT):
        return ",".join(external_ips) or "<none>"
    if kind == LOAD_BALANCER:
        addresses = _ingress_addresses(svc) + external_ips
        return ",".join(addresses) or "<pending>"
    if kind == EXTERNAL_NAME:
        return text(spec.get("externalName"))
    return "<unknown>"


def _ingress_addresses(svc: Obj) -> list[str]:
    found: set[str] = set()
    for _, ingress in items(get_path(svc, "status", "loadBalancer", "ingress")):
        address = text(ingress.get("ip")) or text(ingress.get("hostname"))
        if address:
            found.add(address)
    return sorted(found)


def ports_cell(svc: Obj) -> str:
    """`80/TCP,443:30443/TCP`: port, nodePort when allocated, protocol; "<none>" if none."""
    pieces = []
    for _, port in items(get_path(svc, "spec", "ports")):
        number = port.get("port")
        protocol = text(port.get("protocol"))
        node_port = integer(port.get("nodePort"))
        if node_port:
            pieces.append(f"{number}:{node_port}/{protocol}")
        else:
            pieces.append(f"{number}/{protocol}")
    return ",".join(pieces) or "<none>"


def service_cells(svc: Obj) -> list[Any]:
    """TYPE, CLUSTER-IP, EXTERNAL-IP and PORT(S), in column order."""
    return [
        text(get_path(svc, "spec", "type")),
        cluster_ip_cell(svc),
        external_ip_cell(svc),
        ports_cell(svc),
    ]


def selector_cell(svc: Obj) -> str:
    return format_labels(get_path(svc, "spec", "selector"))
