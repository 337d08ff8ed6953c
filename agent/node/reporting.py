"""Node status: look at the host and the runtime every few seconds, write only what changed.

`node_reporting` registers the node
(retrying while the server is unreachable), then every `status_check_interval` builds
the status afresh and writes it when anything but the heartbeat times changed, or when
`status_report_interval` has passed. Between those writes only the Lease moves
(`heartbeating`), so a quiet node costs the database one small row update per 10 s.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from agent.connectivity import Connectivity
from agent.node import hostfacts
from agent.node.registering import ensure_lease, register_node
from agent.node.states import NodeState, without_heartbeats
from agent.runtime.errors import ContainerRuntimeError
from agent.runtime.interface import Runtime
from agent.settings import AgentSettings
from edgekube.client import NODES, ApiClient, ApiError, NotFound, ServerUnreachable
from edgekube.nodeinfo import node_conditions, node_status, now

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


async def observe(*, runtime: Runtime, state: NodeState, settings: AgentSettings) -> Obj:
    """The node's status now: host facts, pressure, and Ready while the runtime answers."""
    reading = await asyncio.to_thread(hostfacts.read_host, settings.data_dir)
    try:
        version = await runtime.version()
        runtime_version, ready, message = f"{version.runtime_name}://{version.runtime_version}", True, ""
    except ContainerRuntimeError as err:
        runtime_version = state.facts.container_runtime_version if state.facts else ""
        ready, message = False, f"container runtime is down: {err}"
    state.facts = hostfacts.node_facts(
        reading,
        settings.node,
        name=state.name,
        ip=state.ip,
        runtime_version=runtime_version,
        kubelet_port=state.kubelet_port,
    )
    conditions = node_conditions(
        ready,
        now(),
        state.conditions,
        pressure=hostfacts.pressure(reading, settings.node),
        not_ready_message=message or "node is not ready",
    )
    return node_status(state.facts, conditions)


def due(state: NodeState, status: Obj, report_interval: float) -> bool:
    if state.written is None or without_heartbeats(status) != state.written:
        return True
    return asyncio.get_running_loop().time() - state.written_at >= report_interval


async def node_reporting(
    *, client: ApiClient, runtime: Runtime, state: NodeState, settings: AgentSettings, connectivity: Connectivity
) -> None:
    """Register the node, then keep its status current; runs until cancelled."""
    beat = settings.heartbeat
    while True:
        status = await observe(runtime=runtime, state=state, settings=settings)
        delay = beat.status_check_interval
        try:
            if not state.registered.is_set():
                await register_node(client=client, state=state, status=status)
                await ensure_lease(client=client, state=state, duration_seconds=beat.lease_duration_seconds)
                state.registered.set()
            elif due(state, status, beat.status_report_interval):
                state.remember(await client.patch_status(NODES, state.name, {"status": status}))
            connectivity.reached()
        except ServerUnreachable as err:
            connectivity.lost(err)
            delay = min(delay, beat.retry_interval)
        except NotFound:
            log.warning("our Node was deleted; registering again", node=state.name)
            state.registered.clear()
            state.lease = None
            delay = beat.retry_interval
        except ApiError as err:
            log.warning("node status write refused", node=state.name, error=err.message, code=err.code)
            delay = min(delay, beat.retry_interval) if not state.registered.is_set() else delay
        await asyncio.sleep(delay)
