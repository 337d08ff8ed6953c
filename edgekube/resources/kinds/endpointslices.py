"""The EndpointSlice kind (discovery.k8s.io/v1): one slice of the endpoints behind a Service.

Written mostly by the endpoint slice controller. A slice holds addresses of one type
(IPv4, IPv6 or FQDN, fixed at creation), the ports all its endpoints serve, and per
endpoint the ready/serving/terminating conditions. Ports get Kubernetes' defaults (an
empty name, TCP), so what a controller writes compares equal to what it reads back.
The `kubectl get` cells show the first three ports and addresses, as kubectl does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each, required_because
from edgekube.resources.kinds.common_fields import items, mapping, strings, text
from edgekube.resources.kinds.common_net import special_ip_problems
from edgekube.resources.kinds.common_ports import validate_port, validate_protocol
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import (
    duplicate,
    immutable,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_label_value,
    is_qualified_name,
    required,
    unsupported_value,
)

KIND = Kind(
    group="discovery.k8s.io",
    version="v1",
    kind="EndpointSlice",
    plural="endpointslices",
    singular="endpointslice",
    namespaced=True,
    short_names=(),
    categories=(),
    has_status=False,
    has_scale=False,
)

ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
# Kubernetes' limits: per slice, per endpoint, and zone hints per endpoint.
MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 20000
MAX_ZONE_HINTS = 8
# kubectl shows this many ports and addresses, then "+ N more...".
SHOWN = 3

COLUMNS = (
    NAME_COLUMN,
    Column("AddressType", description="The type of address held in this slice"),
    Column("Ports", description="The ports every endpoint of the slice serves"),
    Column("Endpoints", description="The addresses of the endpoints in the slice"),
    AGE_COLUMN,
)


@dataclass
class EndpointSliceStrategy(Strategy):
    """EndpointSlices: addresses of the declared type, unique port names, a fixed addressType."""

    columns: tuple[Column, ...] = COLUMNS

    def default(self, obj: Obj) -> None:
        for _, port in items(obj.get("ports")):
            if port.get("name") is None:
                port["name"] = ""
            if port.get("protocol") is None:
                port["protocol"] = "TCP"

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        address_type = obj.get("addressType")
        if not address_type:
            causes.append(required("addressType"))
        elif address_type not in ADDRESS_TYPES:
            causes.append(unsupported_value("addressType", address_type, ADDRESS_TYPES))
        causes += _validate_endpoints(obj.get("endpoints"), address_type)
        causes += _validate_ports(obj.get("ports"))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        if new.get("addressType") != old.get("addressType"):
            causes.append(immutable("addressType"))
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        return [
            get_path(obj, "metadata", "name"),
            text(obj.get("addressType")),
            ports_cell(obj),
            endpoints_cell(obj),
            age(obj, now),
        ]


# -- validation ------------------------------------------------------------------------------


def too_many(field: str, count: int, limit: int) -> Cause:
    return Cause("FieldValueTooMany", f"Too many: {count}: must have at most {limit} items", field)


def _validate_endpoints(endpoints: Any, address_type: Any) -> list[Cause]:
    causes: list[Cause] = []
    if isinstance(endpoints, list) and len(endpoints) > MAX_ENDPOINTS:
        causes.append(too_many("endpoints", len(endpoints), MAX_ENDPOINTS))
    for i, endpoint in items(endpoints):
        causes += _validate_endpoint(endpoint, f"endpoints[{i}]", address_type)
    return causes


def _validate_endpoint(endpoint: dict[str, Any], path: str, address_type: Any) -> list[Cause]:
    causes: list[Cause] = []
    addresses = strings(endpoint.get("addresses"))
    if not addresses:
        causes.append(required_because(f"{path}.addresses", "must contain at least 1 address"))
    elif len(addresses) > MAX_ADDRESSES:
        causes.append(too_many(f"{path}.addresses", len(addresses), MAX_ADDRESSES))
    for i, address in enumerate(addresses):
        causes += invalid_each(f"{path}.addresses[{i}]", address, address_problems(address, address_type))
    node_name = endpoint.get("nodeName")
    if isinstance(node_name, str) and node_name:
        causes += invalid_each(f"{path}.nodeName", node_name, is_dns1123_subdomain(node_name))
    hostname = endpoint.get("hostname")
    if isinstance(hostname, str) and hostname:
        causes += invalid_each(f"{path}.hostname", hostname, is_dns1123_label(hostname))
    zone = endpoint.get("zone")
    if isinstance(zone, str) and zone:
        causes += invalid_each(f"{path}.zone", zone, is_label_value(zone))
    zones = [z for _, z in items(mapping(endpoint.get("hints")).get("forZones"))]
    if len(zones) > MAX_ZONE_HINTS:
        causes.append(too_many(f"{path}.hints.forZones", len(zones), MAX_ZONE_HINTS))
    return causes


def address_problems(address: str, address_type: Any) -> list[str]:
    """Why `address` cannot be an endpoint address of a slice of `address_type`."""
    if address_type == "IPv4":
        return _ip_problems(address, ipaddress.IPv4Address, "must be a valid IPv4 address")
    if address_type == "IPv6":
        return _ip_problems(address, ipaddress.IPv6Address, "must be a valid IPv6 address")
    if address_type == "FQDN":
        return fqdn_problems(address)
    return []  # the addressType itself is reported


def _ip_problems(address: str, family: type[ipaddress.IPv4Address | ipaddress.IPv6Address], message: str) -> list[str]:
    try:
        family(address)
    except ValueError:
        return [message]
    return special_ip_problems(address)


def fqdn_problems(name: str) -> list[str]:
    """A fully qualified domain name: a DNS subdomain of at least two labels (a final dot allowed)."""
    bare = name.removesuffix(".")
    if not bare:
        return ["Required value"]
    problems = is_dns1123_subdomain(bare.lower())
    if not problems and "." not in bare:
        problems.append("should be a domain with at least two segments separated by dots")
    return problems


def _validate_ports(ports: Any) -> list[Cause]:
    causes: list[Cause] = []
    if isinstance(ports, list) and len(ports) > MAX_PORTS:
        causes.append(too_many("ports", len(ports), MAX_PORTS))
    seen: set[str] = set()
    for i, port in items(ports):
        path = f"ports[{i}]"
        name = text(port.get("name"))
        if name:
            causes += invalid_each(f"{path}.name", name, is_dns1123_label(name))
        if name in seen:
            causes.append(duplicate(f"{path}.name", name))
        seen.add(name)
        if port.get("port") is not None:  # no port number: every port of the endpoints
            causes += validate_port(port.get("port"), f"{path}.port")
        causes += validate_protocol(port.get("protocol"), f"{path}.protocol")
        app_protocol = port.get("appProtocol")
        if isinstance(app_protocol, str):
            causes += invalid_each(f"{path}.appProtocol", app_protocol, is_qualified_name(app_protocol))
    return causes


# -- table -----------------------------------------------------------------------------------


def ports_cell(obj: Obj) -> str:
    """`80,443,8080 + 2 more...`; a port without a number shows its name (or `*`)."""
    shown = []
    for _, port in items(obj.get("ports")):
        number = port.get("port")
        shown.append(str(number) if number is not None else text(port.get("name")) or "*")
    return _first_few(shown)


def endpoints_cell(obj: Obj) -> str:
    """`10.42.0.5,10.42.0.6 + 4 more...`: every address of every endpoint, ready or not."""
    return _first_few([a for _, e in items(obj.get("endpoints")) for a in strings(e.get("addresses"))])


def _first_few(values: list[str]) -> str:
    if len(values) > SHOWN:
        return f"{','.join(values[:SHOWN])} + {len(values) - SHOWN} more..."
    return ",".join(values) or "<unset>"


STRATEGY = EndpointSliceStrategy(KIND, tracks_generation=True)
