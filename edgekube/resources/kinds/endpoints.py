"""The Endpoints kind (v1): the addresses and ports that back a Service.

Written mostly by the endpoints controller. Each subset pairs a set of addresses with
the ports they all serve; the `kubectl get` cell lists address:port pairs, the first
three of them, the way kubectl does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each, required_because
from edgekube.resources.kinds.common_fields import items, text
from edgekube.resources.kinds.common_net import ip_problems, is_ipv6, special_ip_problems
from edgekube.resources.kinds.common_ports import validate_port, validate_protocol
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    required,
)

KIND = Kind(
    group='',
    version='v1',
    kind='Endpoints',
    plural='endpoints',
    singular='endpoints',
    namespaced=True,
    short_names=('ep',),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Endpoints", description="Endpoints of the service"),
    AGE_COLUMN,
)
# kubectl shows this many address:port pairs, then "+ N more...".
SHOWN_ENDPOINTS = 3


@dataclass
class EndpointsStrategy(Strategy):
    """Endpoints: valid routable addresses and ports, TCP by default."""

    columns: tuple[Column, ...] = COLUMNS

    def default(self, obj: Obj) -> None:
        for _, subset in items(obj.get("subsets")):
            for _, port in items(subset.get("ports")):
                if not port.get("protocol"):
                    port["protocol"] = "TCP"

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        for i, subset in items(obj.get("subsets")):
            causes += _validate_subset(subset, f"subsets[{i}]")
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        return [get_path(obj, "metadata", "name"), endpoints_cell(obj), age(obj, now)]


def _validate_subset(subset: dict[str, Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not subset.get("addresses") and not subset.get("notReadyAddresses"):
        causes.append(required_because(path, "must specify `addresses` or `notReadyAddresses`"))
    for key in ("addresses", "notReadyAddresses"):
        for i, address in items(subset.get(key)):
            causes += _validate_address(address, f"{path}.{key}[{i}]")
    ports = subset.get("ports")
    several = isinstance(ports, list) and len(ports) > 1
    for i, port in items(ports):
        causes += _validate_port(port, f"{path}.ports[{i}]", several)
    return causes


def _validate_address(address: dict[str, Any], path: str) -> list[Cause]:
    ip = address.get("ip")
    causes = invalid_each(f"{path}.ip", ip, ip_problems(ip) + special_ip_problems(ip))
    hostname = address.get("hostname")
    if isinstance(hostname, str) and hostname:
        causes += invalid_each(f"{path}.hostname", hostname, is_dns1123_label(hostname))
    node_name = address.get("nodeName")
    if isinstance(node_name, str):
        causes += invalid_each(f"{path}.nodeName", node_name, is_dns1123_subdomain(node_name))
    return causes


def _validate_port(port: dict[str, Any], path: str, several: bool) -> list[Cause]:
    causes: list[Cause] = []
    name = port.get("name")
    if several and not name:
        causes.append(required(f"{path}.name"))
    elif isinstance(name, str) and name:
        causes += invalid_each(f"{path}.name", name, is_dns1123_label(name))
    causes += validate_port(port.get("port"), f"{path}.port")
    causes += validate_protocol(port.get("protocol"), f"{path}.protocol")
    app_protocol = port.get("appProtocol")
    if isinstance(app_protocol, str):
        causes += invalid_each(f"{path}.appProtocol", app_protocol, is_qualified_name(app_protocol))
    return causes


def endpoints_cell(obj: Obj) -> str:
    """`10.42.0.5:80,10.42.0.6:80 + 3 more...`; ready addresses only; "<none>" when empty."""
    shown: list[str] = []
    total = 0
    for _, subset in items(obj.get("subsets")):
        ips = [text(a.get("ip")) for _, a in items(subset.get("addresses"))]
        ports = [p.get("port") for _, p in items(subset.get("ports"))]
        # A headless Service may have no ports: its endpoints are bare addresses.
        pairs = [_host_port(ip, port) for port in ports for ip in ips] if ports else ips
        total += len(pairs)
        shown += pairs[: max(0, SHOWN_ENDPOINTS - len(shown))]
    if total > len(shown):
        return f"{','.join(shown)} + {total - len(shown)} more..."
    return ",".join(shown) or "<none>"


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if is_ipv6(ip) else f"{ip}:{port}"


STRATEGY = EndpointsStrategy(KIND, tracks_generation=False)
