"""Registration: create this node's Node (or take over the one there) and its Lease.

An existing Node keeps its spec (pod CIDR, taints, unschedulable) and the labels others
set; ours are merged in and the status is rewritten whole. The Lease is created owned by
the Node, or taken over if it exists (a restarted agent, a re-installed device).
"""

from __future__ import annotations

from typing import Any

import structlog

from agent.node.states import NodeState
from edgekube.client import LEASES, NODE_LEASE_NAMESPACE, NODES, AlreadyExists, ApiClient, Conflict, NotFound
from edgekube.nodeinfo import lease_object, node_object, now, renewed_lease

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


async def register_node(*, client: ApiClient, state: NodeState, status: Obj) -> None:
    """Create or adopt the Node with `status`; remember its uid and conditions."""
    assert state.facts is not None
    body = node_object(state.facts, state.labels, status["conditions"])
    body["status"] = status
    if state.annotations:
        body["metadata"]["annotations"] = dict(state.annotations)
    try:
        written = await client.create(NODES, body)
        log.info("node registered", node=state.name)
    except AlreadyExists:
        existing = await client.get(NODES, state.name)
        meta: Obj = {"labels": {**(existing["metadata"].get("labels") or {}), **state.labels}}
        if state.annotations:
            meta["annotations"] = dict(state.annotations)
        await client.patch(NODES, state.name, {"metadata": meta})
        written = await client.patch_status(NODES, state.name, {"status": status})
        log.info("node adopted", node=state.name)
    state.remember(written)


async def ensure_lease(*, client: ApiClient, state: NodeState, duration_seconds: int) -> None:
    """Create the node's Lease, or renew the one there (taking it over)."""
    try:
        state.lease = await client.create(LEASES, lease_object(state.name, state.uid, duration_seconds, now()))
        return
    except AlreadyExists:
        existing = await client.get(LEASES, state.name, NODE_LEASE_NAMESPACE)
    try:
        state.lease = await client.update(LEASES, renewed_lease(existing, state.name, duration_seconds, now()))
    except (Conflict, NotFound):
        state.lease = None  # the heartbeat reads it afresh


async def renew_lease(*, client: ApiClient, state: NodeState, duration_seconds: int) -> None:
    """PUT the Lease with a new renewTime; on a conflict read it and try once more."""
    for attempt in range(2):
        if state.lease is None:
            try:
                state.lease = await client.get(LEASES, state.name, NODE_LEASE_NAMESPACE)
            except NotFound:
                lease = lease_object(state.name, state.uid, duration_seconds, now())
                state.lease = await client.create(LEASES, lease)
                return
        try:
            state.lease = await client.update(LEASES, renewed_lease(state.lease, state.name, duration_seconds, now()))
            return
        except (Conflict, NotFound):
            state.lease = None
            if attempt:
                raise
