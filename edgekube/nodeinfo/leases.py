"""A node's heartbeat Lease (coordination.k8s.io/v1, in kube-node-lease, named after the node)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgekube.client.resources import NODE_LEASE_NAMESPACE
from edgekube.nodeinfo.times import micro_time

Obj = dict[str, Any]


def lease_object(node_name: str, node_uid: str, duration_seconds: int, at: datetime) -> Obj:
    """A new Lease for the node, owned by its Node (when its uid is known) so it goes when the Node does."""
    meta: Obj = {"name": node_name, "namespace": NODE_LEASE_NAMESPACE}
    if node_uid:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid}]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {"holderIdentity": node_name, "leaseDurationSeconds": duration_seconds, "renewTime": micro_time(at)},
    }


def renewed_lease(lease: Obj, node_name: str, duration_seconds: int, at: datetime) -> Obj:
    """The Lease as last written with a new renewTime; its resourceVersion makes the PUT a checked one."""
    spec = dict(lease.get("spec") or {})
    spec.update(holderIdentity=node_name, leaseDurationSeconds=duration_seconds, renewTime=micro_time(at))
    return {**lease, "spec": spec}
