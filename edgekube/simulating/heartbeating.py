"""Heartbeats: each node renews its Lease every `lease_interval`, spread over the interval.

A shared `DelayQueue` holds one key per node; `lease_writers` workers take due nodes,
renew, and queue them again `lease_interval * (1 +- jitter)` later. The first renewals
are spread evenly over one interval (node i of N at i/N of it), so 1,000 nodes at 10 s
make a steady 100 writes per second, not a burst every ten seconds.

A renewal PUTs the Lease as last written with a new renewTime; the resourceVersion in it
makes a write over someone else's fail (Conflict), and the node then reads it and tries
again once. Node status is written only when readiness changed or `status_report_interval`
passed, so the Node object is not rewritten on every heartbeat.
"""

from __future__ import annotations

import asyncio
import random

import structlog

from edgekube.client import (
    LEASES,
    NODE_LEASE_NAMESPACE,
    NODES,
    ApiClient,
    ApiError,
    Conflict,
    NotFound,
    ServerUnreachable,
)
from edgekube.simulating import clocks
from edgekube.simulating.nodes import SimNode, conditions, lease_object, renewed
from edgekube.simulating.queueing import DelayQueue
from edgekube.simulating.settings import Settings
from edgekube.simulating.stats import Stats

log = structlog.get_logger(__name__)


def schedule_first_renewals(queue: DelayQueue, nodes: list[SimNode], interval: float) -> None:
    """Spread the first renewal of each node evenly over one interval."""
    count = max(1, len(nodes))
    for i, node in enumerate(nodes):
        queue.add(node.name, interval * (i + 1) / count)


async def heartbeating(
    *, client: ApiClient, queue: DelayQueue, nodes: dict[str, SimNode], settings: Settings, stats: Stats
) -> None:
    """One heartbeat worker; runs until cancelled."""
    beat = settings.heartbeat
    while True:
        name = await queue.get()
        try:
            node = nodes.get(name)
            if node is None or node.removed:
                continue
            if node.heartbeat:
                await beat_once(client=client, node=node, settings=settings, stats=stats)
            queue.add(name, beat.lease_interval * (1 + random.uniform(-beat.jitter, beat.jitter)))
        finally:
            queue.done(name)


async def beat_once(*, client: ApiClient, node: SimNode, settings: Settings, stats: Stats) -> None:
    """Renew the node's Lease and, if due, its status. Failures are counted and logged, not raised."""
    try:
        await renew_lease(client=client, node=node, settings=settings)
        stats.lease_renewals += 1
    except ServerUnreachable as err:
        stats.lease_failures += 1  # offline: the periodic report shows it; no line per node
        log.debug("lease renewal failed", node=node.name, error=str(err))
        return
    except ApiError as err:
        stats.lease_failures += 1
        log.warning("lease renewal refused", node=node.name, error=err.message)
        return
    now = asyncio.get_running_loop().time()
    if node.ready != node.reported_ready or now - node.status_written_at >= settings.heartbeat.status_report_interval:
        try:
            await write_node_status(client=client, node=node, stats=stats)
        except (ApiError, ServerUnreachable) as err:  # the next heartbeat tries again
            log.debug("node status write failed", node=node.name, error=str(err))


async def renew_lease(*, client: ApiClient, node: SimNode, settings: Settings) -> None:
    beat = settings.heartbeat
    for attempt in range(2):
        if node.lease is None:
            try:
                node.lease = await client.get(LEASES, node.name, NODE_LEASE_NAMESPACE)
            except NotFound:
                node.lease = await client.create(LEASES, lease_object(node, beat, clocks.now()))
                return
        try:
            node.lease = await client.update(LEASES, renewed(node.lease, node, beat, clocks.now()))
            return
        except (Conflict, NotFound):
            node.lease = None
            if attempt:
                raise


async def write_node_status(*, client: ApiClient, node: SimNode, stats: Stats) -> None:
    """Write the node's conditions (heartbeat times now; transitions only where status changed)."""
    ready = node.ready
    fresh = conditions(ready, clocks.now(), node.conditions)
    written = await client.patch_status(NODES, node.name, {"status": {"conditions": fresh}})
    node.conditions = list((written.get("status") or {}).get("conditions") or fresh)
    node.pod_cidr = str((written.get("spec") or {}).get("podCIDR") or node.pod_cidr)
    node.reported_ready = ready
    node.status_written_at = asyncio.get_running_loop().time()
    stats.node_status_writes += 1
