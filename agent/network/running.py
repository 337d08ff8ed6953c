"""The pod network's start and upkeep, and the network parts other modules provide.

    run_pod_network (task "pod network")
      1. discover the LocalNode        node.json, else the server's Node.spec.podCIDR (waits)
      2. set up the bridge             ek0 + gateway + cluster DNS address, ip_forward, br_netfilter
      3. reconcile the address table   free the addresses of pods with no sandbox and no desired pod
      4. spawn the parts, each as a named agent task, each `run_X(settings=, watches=, node=)`:
           "routes"          agent.network.routing.run_routes
           "service proxy"   agent.network.proxying.run_service_proxy
           "cluster dns"     agent.dns.serving.run_cluster_dns
           "network policy"  agent.network.policing.run_network_policy  (when network_policy)
      5. every resync_interval: the bridge again (drift), and addresses nobody holds freed

A part that fails or ends is logged and started again after a back-off. With
--disable-network-policy the policy table is removed (it may be left from before).
Nothing here ever ends the agent: every step is retried until it works, and pods wait
(ContainerCreating) until step 3 is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import structlog

from agent.dns.serving import run_cluster_dns
from agent.network.attaching import PodNetworking
from agent.network.bridging import ensure_bridge
from agent.network.discovering import discover_local_node
from agent.network.local import LocalNode
from agent.network.policing import remove_network_policy, run_network_policy
from agent.network.proxying import run_service_proxy
from agent.network.routing import run_routes
from agent.settings import NetworkSettings
from agent.watches import SharedWatches
from edgekube.client import ApiClient

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
T = TypeVar("T")
Spawn = Callable[[str, Coroutine[Any, Any, None]], None]
RETRY_FIRST = 1.0
RETRY_MAX = 30.0


PartEntry = Callable[..., Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Part:
    task: str
    """The agent task's name."""
    entry: PartEntry
    """`entry(settings=, watches=, node=)` runs the part until cancelled."""


PARTS = (
    Part("routes", run_routes),
    Part("service proxy", run_service_proxy),
    Part("cluster dns", run_cluster_dns),
    Part("network policy", run_network_policy),
)


def wanted_parts(settings: NetworkSettings) -> list[Part]:
    return [p for p in PARTS if p.task != "network policy" or settings.network_policy]


async def retrying(what: str, step: Callable[[], Awaitable[T]]) -> T:
    """`step()` until it succeeds, logging each failure, waiting longer each time (up to RETRY_MAX)."""
    delay = RETRY_FIRST
    while True:
        try:
            return await step()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.error("pod network step failed; trying again", step=what, error=str(err), retry_in=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)


async def supervised(name: str, start: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a part until cancelled: one that fails or returns is started again after a back-off."""
    delay = RETRY_FIRST
    while True:
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            # A task of its own per run, so that what the run subscribed to ends with it.
            await asyncio.get_running_loop().create_task(start(), name=name)
            log.warning("network part ended; starting it again", part=name, retry_in=delay)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("network part failed; starting it again", part=name, retry_in=delay)
        if loop.time() - began > RETRY_MAX * 4:
            delay = RETRY_FIRST  # it ran a good while: a new failure is not a crash loop
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)


async def run_pod_network(
    *,
    settings: NetworkSettings,
    client: ApiClient,
    watches: SharedWatches,
    networking: PodNetworking,
    node_name: str,
    node_ip: str,
    in_use: Callable[[], Awaitable[set[str]]],
    desired_pods: Callable[[], Awaitable[dict[str, Obj]]],
    spawn: Spawn,
) -> None:
    """Steps 1-5 above; runs until cancelled. `in_use` raises when it cannot tell (the runtime is down)."""
    state_dir: Path = networking.state_dir

    async def discover() -> LocalNode:
        return await discover_local_node(
            client=client, settings=settings, node_name=node_name, node_ip=node_ip, state_dir=state_dir
        )

    node = await retrying("discover the node", discover)
    await retrying("set up the bridge", lambda: _bridge(node, settings))

    async def start() -> None:
        await networking.start(node, in_use=await in_use(), pods=await desired_pods())

    await retrying("reconcile pod addresses", start)
    if not settings.network_policy:
        await retrying("remove the NetworkPolicy table", lambda: remove_network_policy(settings))
    for part in wanted_parts(settings):
        spawn(part.task, supervised(part.task, _starter(part.entry, settings, watches, node)))
        log.info("network part started", part=part.task)
    while True:
        await asyncio.sleep(settings.resync_interval)
        try:
            await _bridge(node, settings)
            await networking.collect(await in_use())
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.warning("pod network upkeep failed; trying again later", error=str(err))


def _starter(
    entry: PartEntry, settings: NetworkSettings, watches: SharedWatches, node: LocalNode
) -> Callable[[], Coroutine[Any, Any, None]]:
    def start() -> Coroutine[Any, Any, None]:
        return entry(settings=settings, watches=watches, node=node)

    return start


async def _bridge(node: LocalNode, settings: NetworkSettings) -> None:
    changed = await asyncio.to_thread(ensure_bridge, node, bridge=settings.bridge, cluster_dns=settings.cluster_dns)
    if changed:
        log.info("bridge set up", bridge=settings.bridge, changed=changed)
