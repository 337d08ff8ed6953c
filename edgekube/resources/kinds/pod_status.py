"""A pod's status: where it starts, and what a status write (by the kubelet) must respect.

A new pod is `Pending` with its QoS class decided from its resources. Status writes
must carry addresses that parse, a nominated node that could be a node name, and
restart counts that do not go below zero.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_resources import qos_class
from edgekube.resources.kinds.workload_causes import check_int, dicts
from edgekube.resources.objects import Obj
from edgekube.resources.validation import duplicate, invalid_value, is_dns1123_subdomain

IP_ERROR = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def initial_pod_status(pod: Obj) -> Obj:
    """The status a pod is created with."""
    return {"phase": "Pending", "qosClass": qos_class(pod.get("spec"))}


def validate_pod_status(status: Any) -> list[Cause]:
    """Problems with a pod's `status` as written by a status update."""
    if not isinstance(status, dict):
        return []
    causes: list[Cause] = []
    nominated = status.get("nominatedNodeName")
    if isinstance(nominated, str) and nominated:
        causes += [invalid_value("status.nominatedNodeName", nominated, msg) for msg in is_dns1123_subdomain(nominated)]
    causes += _ips(status, "podIP", "podIPs")
    causes += _ips(status, "hostIP", "hostIPs")
    for key in ("containerStatuses", "initContainerStatuses"):
        for i, container in dicts(status.get(key)):
            causes += check_int(container, "restartCount", f"status.{key}[{i}].restartCount")
    return causes


def _ips(status: dict[str, Any], single: str, plural: str) -> list[Cause]:
    """The single address field and its list form: each a valid IP, none repeated."""
    causes: list[Cause] = []
    ip = status.get(single)
    if ip and not _is_ip(ip):
        causes.append(invalid_value(f"status.{single}", ip, IP_ERROR))
    seen: set[str] = set()
    for i, entry in dicts(status.get(plural)):
        value = entry.get("ip")
        field = f"status.{plural}[{i}]"
        if not isinstance(value, str) or not _is_ip(value):
            causes.append(invalid_value(field, value, IP_ERROR))
        elif value in seen:
            causes.append(duplicate(field, value))
        else:
            seen.add(value)
    return causes


def _is_ip(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
