"""The Lease heartbeat: renew `kube-node-lease/<node>` every `lease_interval` seconds.

The node lifecycle controller judges liveness by the Lease, so this is the agent's only
periodic write. A failed renewal marks the server unreachable; the first success after
that tells everyone it is back (see `agent.connectivity`).
"""

from __future__ import annotations

import asyncio

import structlog

from agent.connectivity import Connectivity
from agent.node.registering import renew_lease
from agent.node.states import NodeState
from agent.settings import HeartbeatSettings
from edgekube.client import ApiClient, ApiError, ServerUnreachable

log = structlog.get_logger(__name__)


async def heartbeating(
    *, client: ApiClient, state: NodeState, settings: HeartbeatSettings, connectivity: Connectivity
) -> None:
    """Renew the Lease forever (after registration); runs until cancelled."""
    while True:
        await state.registered.wait()
        try:
            await renew_lease(client=client, state=state, duration_seconds=settings.lease_duration_seconds)
            connectivity.reached()
        except ServerUnreachable as err:
            connectivity.lost(err)
        except ApiError as err:
            log.warning("lease renewal refused", node=state.name, error=err.message, code=err.code)
        await asyncio.sleep(settings.lease_interval)
