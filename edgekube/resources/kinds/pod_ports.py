"""Port numbers, port names (IANA_SVC_NAME) and the `ports` list of a container.

Port names are how services and probes refer to a container port, so they follow the
IANA service-name rules: at most 15 characters, lowercase letters, digits and single
hyphens, at least one letter. Names must be unique within one container; host ports
must be unique across the whole pod (per protocol and host IP).
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_ports import PORT_RANGE, PROTOCOLS, port_name_problems, port_number_problems
from edgekube.resources.kinds.workload_causes import as_int, dicts, text
from edgekube.resources.validation import (
    duplicate,
    invalid_value,
    required,
    unsupported_value,
)

# One home for the number and IANA-name rules, shared with Services and Endpoints.
PORT_RANGE_ERROR = PORT_RANGE


def validate_port_ref(value: Any, field: str) -> list[Cause]:
    """Problems with a port given by number or by name (probes, lifecycle hooks)."""
    number = as_int(value)
    if number is not None:
        return [invalid_value(field, number, msg) for msg in port_number_problems(number)]
    if isinstance(value, str):
        return [invalid_value(field, value, msg) for msg in port_name_problems(value)]
    if value is None:
        return [invalid_value(field, 0, PORT_RANGE_ERROR)]
    return [invalid_value(field, value, "must be a port number or a port name")]


def validate_container_ports(ports: Any, path: str) -> list[Cause]:
    """Problems with one container's `ports`: names, numbers and protocols."""
    causes: list[Cause] = []
    names: set[str] = set()
    for i, port in dicts(ports):
        at = f"{path}[{i}]"
        name = port.get("name")
        if name:
            problems = port_name_problems(name) if isinstance(name, str) else ["must be a string"]
            if problems:
                causes += [invalid_value(f"{at}.name", name, msg) for msg in problems]
            elif name in names:
                causes.append(duplicate(f"{at}.name", name))
            else:
                names.add(name)
        causes += _number(port, "containerPort", at, required_when_zero=True)
        causes += _number(port, "hostPort", at, required_when_zero=False)
        protocol = port.get("protocol")
        if not protocol:
            causes.append(required(f"{at}.protocol"))
        elif protocol not in PROTOCOLS:
            causes.append(unsupported_value(f"{at}.protocol", protocol, PROTOCOLS))
    return causes


def _number(port: dict[str, Any], key: str, at: str, *, required_when_zero: bool) -> list[Cause]:
    value = port.get(key)
    if value is None or value == 0:
        return [required(f"{at}.{key}")] if required_when_zero else []
    number = as_int(value)
    if number is None:
        return [invalid_value(f"{at}.{key}", value, "must be an integer")]
    return [invalid_value(f"{at}.{key}", number, msg) for msg in port_number_problems(number)]


def validate_host_ports(spec: dict[str, Any], path: str) -> list[Cause]:
    """Problems with host ports across the pod: each (protocol, host IP, port) once.

    With `hostNetwork` the container port is the host port, so the two must agree.
    """
    causes: list[Cause] = []
    seen: set[str] = set()
    host_network = spec.get("hostNetwork") is True
    for key in ("containers", "initContainers"):
        for ci, container in dicts(spec.get(key)):
            for pi, port in dicts(container.get("ports")):
                at = f"{path}.{key}[{ci}].ports[{pi}]"
                host_port = as_int(port.get("hostPort")) or 0
                container_port = as_int(port.get("containerPort")) or 0
                if host_network and host_port and host_port != container_port:
                    causes.append(
                        invalid_value(
                            f"{at}.hostPort",
                            host_port,
                            "must match `containerPort` when `hostNetwork` is true",
                        )
                    )
                if not host_port:
                    continue
                slot = f"{text(port.get('protocol'))}/{text(port.get('hostIP'))}/{host_port}"
                if slot in seen:
                    causes.append(duplicate(f"{at}.hostPort", slot))
                seen.add(slot)
    return causes
