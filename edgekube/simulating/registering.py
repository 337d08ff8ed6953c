"""Node registration at start: create each Node with its status, or adopt the one that exists.

One list of nodes and one of leases tell which exist already (a simulator restarted
with the same prefix); then a bounded number of registrations run at once. An adopted
node gets its labels and status rewritten and keeps its spec (pod CIDR, taints). Each
node's Lease is created (or taken over) right after its Node, owned by it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from edgekube.client import LEASES, NODE_LEASE_NAMESPACE, NODES, AlreadyExists, ApiClient, Conflict, NotFound
from edgekube.simulating import clocks
from edgekube.simulating.nodes import SimNode, lease_object, node_labels, node_object, node_status, renewed
from edgekube.simulating.settings import Settings

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


async def register_nodes(*, client: ApiClient, nodes: list[SimNode], settings: Settings) -> None:
    """Register every node in `nodes` (and its Lease); return when all are done."""
    wanted = {n.name for n in nodes}
    found_nodes = await client.list_all(NODES)
    found_leases = await client.list_all(LEASES, NODE_LEASE_NAMESPACE)
    existing = {o["metadata"]["name"]: o for o in found_nodes.items if o["metadata"]["name"] in wanted}
    leases = {o["metadata"]["name"]: o for o in found_leases.items if o["metadata"]["name"] in wanted}
    gate = asyncio.Semaphore(settings.limits.registrations)

    async def one(node: SimNode) -> None:
        async with gate:
            await register_node(client=client, node=node, settings=settings, existing=existing.get(node.name))
            await ensure_lease(client=client, node=node, settings=settings, existing=leases.get(node.name))

    await asyncio.gather(*(one(n) for n in nodes))
    log.info("nodes registered", count=len(nodes), adopted=len(existing))


async def register_node(*, client: ApiClient, node: SimNode, settings: Settings, existing: Obj | None) -> None:
    at = clocks.now()
    if existing is None:
        try:
            written = await client.create(NODES, node_object(node, settings.nodes, at))
        except AlreadyExists:
            existing = await client.get(NODES, node.name)
        else:
            _remember(node, written)
            return
    labels = {**(existing["metadata"].get("labels") or {}), **node_labels(node.name, settings.nodes)}
    await client.patch(NODES, node.name, {"metadata": {"labels": labels}})
    written = await client.patch_status(NODES, node.name, {"status": node_status(node, settings.nodes, at)})
    _remember(node, written)


def _remember(node: SimNode, written: Obj) -> None:
    node.uid = str(written["metadata"].get("uid", ""))
    node.pod_cidr = str((written.get("spec") or {}).get("podCIDR") or "")
    node.conditions = list((written.get("status") or {}).get("conditions") or [])
    node.reported_ready = node.ready
    node.status_written_at = asyncio.get_running_loop().time()


async def ensure_lease(*, client: ApiClient, node: SimNode, settings: Settings, existing: Obj | None) -> None:
    """Create the node's Lease, or renew the one there (taking it over)."""
    at = clocks.now()
    if existing is None:
        try:
            node.lease = await client.create(LEASES, lease_object(node, settings.heartbeat, at))
            return
        except AlreadyExists:
            existing = await client.get(LEASES, node.name, NODE_LEASE_NAMESPACE)
    try:
        node.lease = await client.update(LEASES, renewed(existing, node, settings.heartbeat, at))
    except (Conflict, NotFound):
        node.lease = None  # the heartbeat reads it afresh on its first renewal
