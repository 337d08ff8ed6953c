"""The Node object: labels, conditions and status as a kubelet registers and refreshes them.

`NodeFacts` is everything a node reports about its machine; `node_status` turns it into
`status` (capacity, allocatable, addresses, nodeInfo, conditions). Conditions keep their
`lastTransitionTime` while their status stays the same, so a refresh moves only the
heartbeat times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgekube.nodeinfo.times import rfc3339

Obj = dict[str, Any]

KUBELET_VERSION = "v1.32.0-edgekube"
KUBELET_PORT = 10250
"""Where the node serves logs and exec (`status.daemonEndpoints.kubeletEndpoint.Port`)."""

# Each pressure condition: type, then (reason, message) when False (healthy) and when True.
PRESSURE_CONDITIONS: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    (
        "MemoryPressure",
        ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    ),
    (
        "DiskPressure",
        ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("KubeletHasDiskPressure", "kubelet has disk pressure"),
    ),
    (
        "PIDPressure",
        ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
    ),
)


@dataclass(frozen=True)
class NodeFacts:
    """What a node reports about its machine (quantities are Kubernetes quantity strings)."""

    name: str
    internal_ip: str
    hostname: str = ""
    """The Hostname address ('' : the node name)."""
    capacity: Mapping[str, str] = field(default_factory=dict)
    allocatable: Mapping[str, str] = field(default_factory=dict)
    """'' entries or a missing key: the capacity."""
    architecture: str = "amd64"
    operating_system: str = "linux"
    kernel_version: str = ""
    os_image: str = ""
    container_runtime_version: str = ""
    kubelet_version: str = KUBELET_VERSION
    machine_id: str = ""
    system_uuid: str = ""
    boot_id: str = ""
    kubelet_port: int = KUBELET_PORT


def node_labels(name: str, architecture: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The well-known labels a kubelet puts on its Node, then `extra` (which may override none of them)."""
    return {
        **(extra or {}),
        "kubernetes.io/hostname": name,
        "kubernetes.io/arch": architecture,
        "kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": architecture,
        "beta.kubernetes.io/os": "linux",
    }


def node_conditions(
    ready: bool,
    at: datetime,
    previous: list[Obj],
    *,
    pressure: Mapping[str, bool] | None = None,
    ready_message: str = "kubelet is posting ready status",
    not_ready_message: str = "node is not ready",
) -> list[Obj]:
    """The node's conditions with heartbeat time `at`; transition times move only on a change.

    `pressure` maps a condition type (MemoryPressure, DiskPressure, PIDPressure) to True
    when the node is under that pressure; missing types are reported healthy.
    """
    before = {c.get("type"): c for c in previous}
    wanted: list[tuple[str, str, str, str]] = []
    for kind, healthy, pressed in PRESSURE_CONDITIONS:
        under = bool((pressure or {}).get(kind))
        reason, message = pressed if under else healthy
        wanted.append((kind, "True" if under else "False", reason, message))
    if ready:
        wanted.append(("Ready", "True", "KubeletReady", ready_message))
    else:
        wanted.append(("Ready", "False", "KubeletNotReady", not_ready_message))
    out: list[Obj] = []
    for kind, status, reason, message in wanted:
        old = before.get(kind)
        kept = old is not None and old.get("status") == status and old.get("lastTransitionTime")
        out.append(
            {
                "type": kind,
                "status": status,
                "lastHeartbeatTime": rfc3339(at),
                "lastTransitionTime": old["lastTransitionTime"] if old and kept else rfc3339(at),
                "reason": reason,
                "message": message,
            }
        )
    return out


def node_status(facts: NodeFacts, conditions: list[Obj]) -> Obj:
    """The node's full status: what it registers with and rewrites when anything changes."""
    allocatable = {k: facts.allocatable.get(k) or v for k, v in facts.capacity.items()}
    return {
        "capacity": dict(facts.capacity),
        "allocatable": allocatable,
        "conditions": conditions,
        "addresses": [
            {"type": "InternalIP", "address": facts.internal_ip},
            {"type": "Hostname", "address": facts.hostname or facts.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": facts.kubelet_port}},
        "nodeInfo": {
            "machineID": facts.machine_id,
            "systemUUID": facts.system_uuid,
            "bootID": facts.boot_id,
            "kernelVersion": facts.kernel_version,
            "osImage": facts.os_image,
            "containerRuntimeVersion": facts.container_runtime_version,
            "kubeletVersion": facts.kubelet_version,
            "kubeProxyVersion": facts.kubelet_version,
            "operatingSystem": facts.operating_system,
            "architecture": facts.architecture,
        },
    }


def node_object(facts: NodeFacts, labels: Mapping[str, str], conditions: list[Obj]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": facts.name, "labels": dict(labels)},
        "spec": {},
        "status": node_status(facts, conditions),
    }
