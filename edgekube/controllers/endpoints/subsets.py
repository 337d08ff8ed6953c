"""The desired `subsets` of a Service's Endpoints object, from the pods its selector picks.

Each pod that may serve is one address, ready (`addresses`) or not (`notReadyAddresses`;
with publishNotReadyAddresses every pod counts as ready). Addresses are grouped by the
set of ports they serve, as Kubernetes repacks them: a pod missing a named target port
lands in a subset without that port. Worked example, Service ports http->"web" and
metrics->9100; pod a names "web" 8080, pod b has no "web":
    [{addresses: [a], ports: [http 8080, metrics 9100]},
     {addresses: [b], ports: [metrics 9100]}]
A headless Service without ports gets bare addresses. Everything is sorted, so equal
inputs give equal output and an unchanged Service writes nothing.
"""

from __future__ import annotations

from typing import Any

from edgekube.controllers.endpoints.selecting import (
    address_family,
    hostname_for,
    is_headless,
    is_ready,
    may_serve,
    pod_ip,
    pod_reference,
    service_ports,
    target_port,
)
from edgekube.resources.objects import Obj, get_path

PortKey = tuple[tuple[str, int, str, str], ...]


def endpoints_port(svc_port: dict[str, Any], number: int) -> dict[str, Any]:
    """An Endpoints port as the API stores it (no name when the Service port has none)."""
    port: dict[str, Any] = {"port": number, "protocol": svc_port.get("protocol") or "TCP"}
    if svc_port.get("name"):
        port["name"] = svc_port["name"]
    if svc_port.get("appProtocol"):
        port["appProtocol"] = svc_port["appProtocol"]
    return port


def _port_key(port: dict[str, Any]) -> tuple[str, int, str, str]:
    return (str(port.get("name") or ""), int(port["port"]), str(port["protocol"]), str(port.get("appProtocol") or ""))


def pod_address(svc: Obj, pod: Obj, ip: str) -> dict[str, Any]:
    address: dict[str, Any] = {"ip": ip, "targetRef": pod_reference(pod)}
    node = get_path(pod, "spec", "nodeName")
    if node:
        address["nodeName"] = node
    hostname = hostname_for(svc, pod)
    if hostname:
        address["hostname"] = hostname
    return address


def desired_subsets(svc: Obj, pods: list[Obj]) -> list[dict[str, Any]]:
    """The subsets for `svc`, given the pods (already in its namespace and selected)."""
    tolerate = get_path(svc, "spec", "publishNotReadyAddresses") is True
    family = address_family(svc)
    svc_ports = service_ports(svc)
    groups: dict[PortKey, tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for pod in pods:
        ip = pod_ip(pod, family)
        if ip is None or not may_serve(pod, include_terminating=tolerate):
            continue
        ports = []
        for svc_port in svc_ports:
            number = target_port(pod, svc_port)
            if number is not None:
                ports.append(endpoints_port(svc_port, number))
        if not ports and (svc_ports or not is_headless(svc)):
            continue  # serves none of the ports (a Service with no ports and a cluster IP has no endpoints)
        ports.sort(key=_port_key)
        key = tuple(_port_key(p) for p in ports)
        ready, not_ready, _ = groups.setdefault(key, ([], [], ports))
        (ready if tolerate or is_ready(pod) else not_ready).append(pod_address(svc, pod, ip))
    subsets = []
    for key in sorted(groups):
        ready, not_ready, ports = groups[key]
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = sorted(ready, key=_address_order)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=_address_order)
        if ports:
            subset["ports"] = ports
        subsets.append(subset)
    return subsets


def _address_order(address: dict[str, Any]) -> tuple[str, str]:
    return str(address["ip"]), str(address["targetRef"].get("uid") or "")
