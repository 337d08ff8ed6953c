"""Simulated nodes: their state in the process, and the Node and Lease objects they write.

A `SimNode` is what the process knows about one node: whether its heartbeat runs, what
readiness it should report and last reported, its Lease as last written (renewals PUT
it back with a new renewTime) and its pods' address pool. The builders here are pure;
the loops that send them live in `registering` and `heartbeating`.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgekube.client import NODE_LEASE_NAMESPACE
from edgekube.simulating.addresses import IpPool, default_pod_cidr, node_ip
from edgekube.simulating.clocks import micro_time, rfc3339
from edgekube.simulating.settings import HeartbeatSettings, NodeSettings

Obj = dict[str, Any]

SIMULATED_LABEL = "node.edgekube.io/simulated"
KUBELET_VERSION = "v1.32.0-edgekube"
RUNTIME_VERSION = "simulated://1"
KUBELET_PORT = 10250
# The conditions a healthy kubelet reports, with the "good" status of each.
PRESSURE_CONDITIONS = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


@dataclass
class SimNode:
    name: str
    index: int
    ready: bool = True
    """The readiness the node should report."""
    heartbeat: bool = True
    """Whether the Lease is being renewed."""
    removed: bool = False
    """The node left the fleet (deleted by a test or by someone else); it writes nothing more."""
    uid: str = ""
    pod_cidr: str = ""
    lease: Obj | None = None
    """The Lease as last written (or read), sent back with a new renewTime on renewal."""
    reported_ready: bool | None = None
    """The readiness in the last node status write; None before the first."""
    conditions: list[Obj] = field(default_factory=list)
    """The conditions last written, so transition times stay put while nothing changes."""
    status_written_at: float = 0.0
    """Event-loop time of the last node status write."""
    pools: dict[str, IpPool] = field(default_factory=dict)

    @property
    def ip(self) -> str:
        return node_ip(self.index)

    def pool(self) -> IpPool:
        """The address pool of the node's pod CIDR (assigned by the cluster, or the default)."""
        cidr = self.pod_cidr or default_pod_cidr(self.index)
        if cidr not in self.pools:
            self.pools[cidr] = IpPool(cidr)
        return self.pools[cidr]

    def release_ip(self, ip: str) -> None:
        for pool in self.pools.values():
            pool.release(ip)


def node_name(prefix: str, index: int) -> str:
    return f"{prefix}{index:04d}"


def node_labels(name: str, settings: NodeSettings) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/arch": settings.architecture,
        "kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": settings.architecture,
        "beta.kubernetes.io/os": "linux",
        SIMULATED_LABEL: "true",
        **settings.labels,
    }


def conditions(ready: bool, at: datetime, previous: list[Obj]) -> list[Obj]:
    """The node's conditions with heartbeat time `at`; transition times move only on a change."""
    before = {c.get("type"): c for c in previous}
    wanted: list[tuple[str, str, str, str]] = [
        (kind, "False", reason, message) for kind, reason, message in PRESSURE_CONDITIONS
    ]
    if ready:
        wanted.append(("Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated)"))
    else:
        wanted.append(("Ready", "False", "KubeletNotReady", "simulated node is not ready"))
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


def node_status(node: SimNode, settings: NodeSettings, at: datetime) -> Obj:
    """The full status a node registers with."""
    resources = {
        "cpu": settings.cpu,
        "memory": settings.memory,
        "pods": str(settings.pods),
        "ephemeral-storage": settings.ephemeral_storage,
    }
    ids = hashlib.sha256(node.name.encode()).hexdigest()
    return {
        "capacity": dict(resources),
        "allocatable": dict(resources),
        "conditions": conditions(node.ready, at, node.conditions),
        "addresses": [{"type": "InternalIP", "address": node.ip}, {"type": "Hostname", "address": node.name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
        "nodeInfo": {
            "machineID": ids[:32],
            "systemUUID": str(uuid.UUID(ids[32:64])),
            "bootID": str(uuid.uuid4()),
            "kernelVersion": "6.1.0-simulated",
            "osImage": "EdgeKube simulated node",
            "containerRuntimeVersion": RUNTIME_VERSION,
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux",
            "architecture": settings.architecture,
        },
    }


def node_object(node: SimNode, settings: NodeSettings, at: datetime) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node.name, "labels": node_labels(node.name, settings)},
        "spec": {},
        "status": node_status(node, settings, at),
    }


def lease_object(node: SimNode, settings: HeartbeatSettings, at: datetime) -> Obj:
    """A new Lease for the node, owned by its Node so it goes when the Node does."""
    meta: Obj = {"name": node.name, "namespace": NODE_LEASE_NAMESPACE}
    if node.uid:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node.uid}]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {
            "holderIdentity": node.name,
            "leaseDurationSeconds": settings.lease_duration_seconds,
            "renewTime": micro_time(at),
        },
    }


def renewed(lease: Obj, node: SimNode, settings: HeartbeatSettings, at: datetime) -> Obj:
    """The last written Lease with a new renewTime (its resourceVersion makes the PUT a checked one)."""
    spec = dict(lease.get("spec") or {})
    spec.update(
        holderIdentity=node.name, leaseDurationSeconds=settings.lease_duration_seconds, renewTime=micro_time(at)
    )
    return {**lease, "spec": spec}
