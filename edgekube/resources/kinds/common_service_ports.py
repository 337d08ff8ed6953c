"""Validation of `spec.ports` of a Service: numbers, names, protocols and nodePorts.

Sees one Service only: whether a nodePort is free across the cluster is the
allocator's question. Port names become mandatory with a second port because
Endpoints and named targetPorts match ports by name.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each
from edgekube.resources.kinds.common_fields import integer, items
from edgekube.resources.kinds.common_ports import (
    validate_port,
    validate_port_or_name,
    validate_protocol,
)
from edgekube.resources.kinds.common_service_writes import (
    CLUSTER_IP,
    EXTERNAL_NAME,
    LOAD_BALANCER,
)
from edgekube.resources.validation import (
    duplicate,
    forbidden,
    invalid_value,
    is_dns1123_label,
    is_qualified_name,
    required,
)

NODE_PORT_RANGE = (30000, 32767)
# The kubelet listens here on every node; a load balancer must not open it to the world.
KUBELET_PORT = 10250


def validate_service_ports(ports: Any, kind: str, *, optional: bool) -> list[Cause]:
    """Every problem with `spec.ports`; `optional` for headless and ExternalName Services."""
    count = len(ports) if isinstance(ports, list) else 0
    causes: list[Cause] = []
    if count == 0 and not optional:
        causes.append(required("spec.ports"))
    names: set[str] = set()
    seen: set[tuple[str, str]] = set()
    seen_node_ports: set[tuple[str, int]] = set()
    for i, port in items(ports):
        path = f"spec.ports[{i}]"
        causes += _validate_name(port.get("name"), f"{path}.name", count > 1, names)
        causes += validate_port(port.get("port"), f"{path}.port")
        causes += validate_protocol(port.get("protocol"), f"{path}.protocol")
        causes += validate_port_or_name(port.get("targetPort"), f"{path}.targetPort")
        app_protocol = port.get("appProtocol")
        if isinstance(app_protocol, str):
            problems = is_qualified_name(app_protocol)
            causes += invalid_each(f"{path}.appProtocol", app_protocol, problems)
        causes += _validate_node_port(port.get("nodePort"), f"{path}.nodePort", kind)
        # A port number may repeat with another protocol (DNS on 53/UDP and 53/TCP).
        protocol = repr(port.get("protocol"))
        key = (repr(port.get("port")), protocol)
        if key in seen:
            shown = {"port": port.get("port"), "protocol": port.get("protocol")}
            causes.append(duplicate(path, shown))
        seen.add(key)
        node_port = integer(port.get("nodePort"))
        if node_port:
            if (protocol, node_port) in seen_node_ports:
                causes.append(duplicate(f"{path}.nodePort", node_port))
            seen_node_ports.add((protocol, node_port))
        if kind == LOAD_BALANCER and integer(port.get("port")) == KUBELET_PORT:
            causes.append(invalid_value(
                path, KUBELET_PORT,
                f"may not expose port {KUBELET_PORT} externally since it is used by kubelet",
            ))
    return causes


def _validate_name(name: Any, field: str, needed: bool, names: set[str]) -> list[Cause]:
    if name is None or name == "":
        return [required(field)] if needed else []
    if not isinstance(name, str):
        return [invalid_value(field, name, "must be a string")]
    causes = invalid_each(field, name, is_dns1123_label(name))
    if name in names:
        causes.append(duplicate(field, name))
    names.add(name)
    return causes


def _validate_node_port(value: Any, field: str, kind: str) -> list[Cause]:
    if value is None or value == 0:
        return []
    if kind in (CLUSTER_IP, EXTERNAL_NAME):
        return [forbidden(field, f"may not be used when `type` is '{kind}'")]
    number = integer(value)
    low, high = NODE_PORT_RANGE
    if number is None or not low <= number <= high:
        return [invalid_value(
            field, value,
            f"provided port is not in the valid range. The range of valid ports is {low}-{high}",
        )]
    return []
