"""Simulated nodes: their state in the process, and the Node and Lease objects they write.

A `SimNode` is what the process knows about one node: whether its heartbeat runs, what
readiness it should report and last reported, its Lease as last written (renewals PUT
it back with a new renewTime) and its pods' address pool. The builders here are pure
(thin over `edgekube.nodeinfo`, which the real agent shares); the loops that send them
live in `registering` and `heartbeating`.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgekube import nodeinfo
from edgekube.simulating.addresses import IpPool, default_pod_cidr, node_ip
from edgekube.simulating.settings import HeartbeatSettings, NodeSettings

Obj = dict[str, Any]

SIMULATED_LABEL = "node.edgekube.io/simulated"
RUNTIME_VERSION = "simulated://1"


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
    return nodeinfo.node_labels(name, settings.architecture, {SIMULATED_LABEL: "true", **settings.labels})


def conditions(ready: bool, at: datetime, previous: list[Obj]) -> list[Obj]:
    """The node's conditions with heartbeat time `at`; transition times move only on a change."""
    return nodeinfo.node_conditions(
        ready,
        at,
        previous,
        ready_message="kubelet is posting ready status (simulated)",
        not_ready_message="simulated node is not ready",
    )


def node_facts(node: SimNode, settings: NodeSettings) -> nodeinfo.NodeFacts:
    resources = {
        "cpu": settings.cpu,
        "memory": settings.memory,
        "pods": str(settings.pods),
        "ephemeral-storage": settings.ephemeral_storage,
    }
    ids = hashlib.sha256(node.name.encode()).hexdigest()
    return nodeinfo.NodeFacts(
        name=node.name,
        internal_ip=node.ip,
        capacity=resources,
        allocatable=resources,
        architecture=settings.architecture,
        kernel_version="6.1.0-simulated",
        os_image="EdgeKube simulated node",
        container_runtime_version=RUNTIME_VERSION,
        machine_id=ids[:32],
        system_uuid=str(uuid.UUID(ids[32:64])),
        boot_id=str(uuid.uuid4()),
    )


def node_status(node: SimNode, settings: NodeSettings, at: datetime) -> Obj:
    """The full status a node registers with."""
    return nodeinfo.node_status(node_facts(node, settings), conditions(node.ready, at, node.conditions))


def node_object(node: SimNode, settings: NodeSettings, at: datetime) -> Obj:
    facts = node_facts(node, settings)
    return nodeinfo.node_object(facts, node_labels(node.name, settings), conditions(node.ready, at, node.conditions))


def lease_object(node: SimNode, settings: HeartbeatSettings, at: datetime) -> Obj:
    """A new Lease for the node, owned by its Node so it goes when the Node does."""
    return nodeinfo.lease_object(node.name, node.uid, settings.lease_duration_seconds, at)


def renewed(lease: Obj, node: SimNode, settings: HeartbeatSettings, at: datetime) -> Obj:
    """The last written Lease with a new renewTime (its resourceVersion makes the PUT a checked one)."""
    return nodeinfo.renewed_lease(lease, node.name, settings.lease_duration_seconds, at)
