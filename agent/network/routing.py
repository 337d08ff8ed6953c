"""Routes to other nodes' pods: follows the Nodes and keeps the kernel's routes matching them.

Node events in (debounced) and a timer (every `resync_interval`, to undo drift) -> one
reconcile: Nodes -> desired `RouteState` (pure) -> compared with what the kernel holds ->
the differences written. Level-triggered: each reconcile starts from the whole cache and
the whole kernel state, never from the event that woke it.

Invariants:
- Offline rule: nothing is changed before the Node cache has synced once. While the server is
  unreachable the cache stays as last seen, so resyncs keep writing the same routes.
- Only our routes (proto 101, with a gateway, main table) and only `ek-vxlan` are touched.
  Under host-gw `ek-vxlan` does not exist; under vxlan no host-gw route survives.
- A failed reconcile is retried sooner than the resync (1 s doubling up to it).

`RouteReconciler.sync(nodes)` is the seam that tests (and anything without a server) drive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from agent.network.local import LocalNode
from agent.network.netlink import IPRoute
from agent.network.routes_desired import host_gw_state, remote_nodes, vxlan_state
from agent.network.routes_diffing import diff
from agent.network.routes_kernel import apply_plan, connected_networks, read_state, remove_all_routes
from agent.network.routes_states import VXLAN_DEVICE, Plan, RemoteNode, Skip
from agent.network.vxlan_devices import delete_vxlan, ensure_vxlan, vxlan_spec
from agent.settings import NetworkSettings
from agent.watches import SharedWatches
from edgekube.client import NODES

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
BACKENDS = ("host-gw", "vxlan", "none")
DEBOUNCE = 0.05
"""Seconds to wait after a Node event for the ones that come with it (a relist, a rolling join)."""
FIRST_RETRY = 1.0


@dataclass
class Outcome:
    """What one reconcile did."""

    plan: Plan
    skipped: list[Skip] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class RouteReconciler:
    """Brings the kernel's routes to other nodes in line with a list of Node objects."""

    def __init__(self, settings: NetworkSettings, node: LocalNode) -> None:
        if settings.backend not in ("host-gw", "vxlan"):
            raise ValueError(f"no routes for backend {settings.backend!r}")
        self.settings = settings
        self.node = node
        self._log = log.bind(node=node.name, backend=settings.backend)
        self._last_skips: set[Skip] = set()

    async def sync(self, nodes: Iterable[Obj]) -> Outcome:
        """One reconcile from these Nodes (the full set: a node missing from it loses its route)."""
        remotes, skipped = remote_nodes(nodes, self.node)
        outcome = await asyncio.to_thread(self._converge, remotes)
        outcome.skipped[:0] = skipped
        self._report(outcome)
        return outcome

    def _converge(self, remotes: list[RemoteNode]) -> Outcome:
        with IPRoute() as ipr:
            if self.settings.backend == "vxlan":
                vxlan_index: int | None = ensure_vxlan(ipr, vxlan_spec(self.settings, self.node))
                desired, skipped = vxlan_state(remotes), list[Skip]()
            else:
                if delete_vxlan(ipr):
                    self._log.info("removed VXLAN device left by the vxlan backend", device=VXLAN_DEVICE)
                vxlan_index = None
                ignore = {self.settings.bridge, VXLAN_DEVICE}
                desired, skipped = host_gw_state(remotes, connected_networks(ipr, self.node.interface, ignore))
            actual = read_state(ipr, vxlan_index, exclude=self.node.pod_cidr)
            plan = diff(desired, actual)
            failures = apply_plan(ipr, plan, vxlan_index) if plan else []
        return Outcome(plan, skipped, failures)

    def _report(self, outcome: Outcome) -> None:
        skips = set(outcome.skipped)
        for skip in sorted(skips - self._last_skips, key=lambda s: s.node):
            self._log.warning("no route to node", remote=skip.node, reason=skip.reason)
        self._last_skips = skips
        if outcome.plan:
            self._log.info("routes changed", **outcome.plan.summary())
        for failure in outcome.failures:
            self._log.warning("route change failed", change=failure)


class NodeCache(Protocol):
    """What the loop reads of a ListWatcher."""

    cache: dict[str, Obj]

    async def wait_synced(self) -> None: ...


async def follow_nodes(
    *,
    nodes: NodeCache,
    changed: asyncio.Event,
    sync: Callable[[list[Obj]], Awaitable[Outcome]],
    resync_interval: float,
    debounce: float = DEBOUNCE,
) -> None:
    """Call `sync` with the whole Node cache once it has synced, then on `changed` and on a timer."""
    await nodes.wait_synced()
    retry = FIRST_RETRY
    while True:
        changed.clear()
        wait = resync_interval
        try:
            outcome = await sync(list(nodes.cache.values()))
        except Exception:  # a netlink or device error: log, retry soon, keep following
            log.exception("reconciling routes failed", retry_in=retry)
            outcome = None
        if outcome is None or outcome.failures:
            wait, retry = min(retry, resync_interval), min(retry * 2, resync_interval)
        else:
            retry = FIRST_RETRY
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await changed.wait()
                await asyncio.sleep(debounce)


async def run_routes(*, settings: NetworkSettings, watches: SharedWatches, node: LocalNode) -> None:
    """Keep routes to every other node's pod CIDR until cancelled (in the agent's network namespace)."""
    if settings.backend not in BACKENDS:
        raise ValueError(f"unknown network backend {settings.backend!r}")
    if settings.backend == "none":
        # No pod network: nothing to follow, but an earlier backend's routes must not linger.
        removed = await remove_routes(settings)
        if removed:
            log.info("removed routes of an earlier backend", removed=removed)
        await asyncio.Event().wait()
    changed = asyncio.Event()
    watcher = watches.watch(NODES, lambda kind, obj: changed.set())
    reconciler = RouteReconciler(settings, node)
    log.info("following nodes for routes", node=node.name, backend=settings.backend)
    await follow_nodes(nodes=watcher, changed=changed, sync=reconciler.sync, resync_interval=settings.resync_interval)


async def remove_routes(settings: NetworkSettings) -> list[str]:
    """Remove every route and the VXLAN device this module may have made (for --cleanup); what went."""
    return await asyncio.to_thread(_remove_blocking)


def _remove_blocking() -> list[str]:
    with IPRoute() as ipr:
        removed = remove_all_routes(ipr)
        if delete_vxlan(ipr):
            removed.append(f"link {VXLAN_DEVICE}")
    return removed
