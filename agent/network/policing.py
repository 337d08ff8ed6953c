"""NetworkPolicy enforcement on this node: follows the API and keeps `ip <table>_filter` in step.

Flow: NetworkPolicies, Pods and Namespaces come in through the shared watches; any change
marks the state dirty; after a short pause that gathers a burst of changes into one
(`COALESCE_SECONDS`), the whole plan is resolved (`policy_resolving`), rendered
(`policy_rendering`) and, when the text differs from what was last applied, applied as one
`nft -f -` transaction. Every `resync_interval` the table in the kernel is compared with
what was applied, and rewritten when someone changed or removed it (drift).

Invariants:
- nothing is written before all three watches have listed once: an agent that starts
  while the server is away leaves the last rules in place, and while the server is
  unreachable the caches, and so the rules, stay as they were;
- while the API does not serve NetworkPolicy (an older server answers the list with 404)
  the list never syncs, so nothing is enforced and nothing is removed; the watch keeps
  retrying, and this module says so once;
- only the table `ip <settings.nft_table>_filter` is ever written, and only as a whole;
- stopping the task leaves the table in place: pods stay protected while the agent
  restarts. `remove_network_policy` removes it (for --disable-network-policy).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from structlog.typing import FilteringBoundLogger

from agent.network.local import LocalNode
from agent.network.nft import NftError, apply_ruleset, delete_table, list_table_json
from agent.network.policy_rendering import render_filter
from agent.network.policy_resolving import Resolution, resolve_plan
from agent.settings import NetworkSettings
from agent.watches import SharedWatches
from edgekube.client import NAMESPACES, NETWORK_POLICIES, PODS, ListWatcher

COALESCE_SECONDS = 0.075
"""Pause between the first change of a burst and the render: a Deployment's pods or a
`kubectl apply` of several policies become one transaction instead of dozens."""
RETRY_SECONDS = 5.0
"""Wait before trying again after nft refused a ruleset (a bug) or could not run."""
POLICY_LIST_PATIENCE = 10.0
"""Seconds to wait for the NetworkPolicy list before saying (once) that it is not there yet."""

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


def filter_table(settings: NetworkSettings) -> str:
    """Name of the `ip` table holding NetworkPolicy rules (edgekube_filter)."""
    return f"{settings.nft_table}_filter"


async def run_network_policy(*, settings: NetworkSettings, watches: SharedWatches, node: LocalNode) -> None:
    """Enforce NetworkPolicy for this node's pods until cancelled."""
    table = filter_table(settings)
    bound = log.bind(node=node.name, table=table)
    changed = asyncio.Event()

    def on_change(kind: str, obj: Obj) -> None:
        changed.set()

    policies = watches.watch(NETWORK_POLICIES, on_change)
    pods = watches.watch(PODS, on_change)
    namespaces = watches.watch(NAMESPACES, on_change)
    await _wait_synced(bound, policies, pods, namespaces)
    bound.info("network policy watches synced; enforcing")
    enforcer = Enforcer(table, bound)
    changed.set()  # the first render, also when the cluster is empty and no event came
    loop = asyncio.get_running_loop()
    next_check = loop.time() + settings.resync_interval
    while True:
        # Checked on a clock of its own, so a steady stream of pod updates cannot put it off.
        if loop.time() >= next_check:
            next_check = loop.time() + settings.resync_interval
            await _guarded(bound, enforcer.check_drift(), changed)
        if not changed.is_set():
            try:
                async with asyncio.timeout(max(0.0, next_check - loop.time())):
                    await changed.wait()
            except TimeoutError:
                continue
        await asyncio.sleep(COALESCE_SECONDS)
        changed.clear()
        # Snapshots taken here, on the loop; the watches replace objects rather than edit them,
        # so the thread reads a consistent state. A thousand pods take ~80 ms to resolve and
        # render: off the loop, so the watches and the DNS server keep going meanwhile.
        resolution, text = await asyncio.to_thread(
            _resolve_and_render,
            table,
            node,
            list(policies.cache.values()),
            list(pods.cache.values()),
            list(namespaces.cache.values()),
        )
        enforcer.report(resolution.problems)
        await _guarded(bound, enforcer.enforce(text, len(resolution.plan.pods)), changed)


def _resolve_and_render(
    table: str, node: LocalNode, policies: list[Obj], pods: list[Obj], namespaces: list[Obj]
) -> tuple[Resolution, str]:
    resolution = resolve_plan(table=table, node=node, policies=policies, pods=pods, namespaces=namespaces)
    return resolution, render_filter(resolution.plan)


async def remove_network_policy(settings: NetworkSettings) -> bool:
    """Remove our policy table (NetworkPolicy turned off); whether it existed."""
    return await delete_table("ip", filter_table(settings))


async def _wait_synced(
    bound: FilteringBoundLogger, policies: ListWatcher, pods: ListWatcher, namespaces: ListWatcher
) -> None:
    await pods.wait_synced()
    await namespaces.wait_synced()
    try:
        async with asyncio.timeout(POLICY_LIST_PATIENCE):
            await policies.wait_synced()
    except TimeoutError:
        bound.warning(
            "NetworkPolicies are not listed yet (server unreachable, or it does not serve the kind); "
            "enforcing nothing until they are"
        )
        await policies.wait_synced()


async def _guarded(bound: FilteringBoundLogger, step: Any, changed: asyncio.Event) -> None:
    """Run one apply or drift check; when nft fails, log it and render again a little later."""
    try:
        await step
    except NftError as err:
        bound.error("applying network policy failed; retrying", error=str(err), retry_in=RETRY_SECONDS)
        await asyncio.sleep(RETRY_SECONDS)
        changed.set()


class Enforcer:
    """Applies rendered rulesets, skipping repeats, and puts the table back when it drifted."""

    def __init__(self, table: str, bound: FilteringBoundLogger) -> None:
        self.table = table
        self.applied: str | None = None
        """The text last applied; None: nothing yet (the first render always applies)."""
        self.snapshot: Any = None
        """The table as the kernel listed it right after that apply, without handles (None: absent)."""
        self.applies = 0
        """Transactions applied (for tests and logs)."""
        self._log = bound
        self._problems: frozenset[str] = frozenset()

    async def enforce(self, text: str, pods: int) -> None:
        if text == self.applied:
            return
        self.applied = None  # until it is known to be in: a failed apply is retried, not skipped
        await apply_ruleset(text)
        self.applied = text
        self.snapshot = await self.read()
        self.applies += 1
        self._log.info("network policy applied", isolated_pods=pods, bytes=len(text))

    async def check_drift(self) -> None:
        if self.applied is None:
            return
        if await self.read() == self.snapshot:
            return
        self._log.warning("network policy table changed outside the agent; writing it again")
        text, self.applied = self.applied, None
        await self.enforce(text, -1)

    async def read(self) -> Any:
        listed = await list_table_json("ip", self.table)
        return None if listed is None else normalized(listed)

    def report(self, problems: tuple[str, ...]) -> None:
        """Log each problem once, when it first appears."""
        current = frozenset(problems)
        for problem in sorted(current - self._problems):
            self._log.warning("network policy problem", problem=problem)
        self._problems = current


def normalized(listed: dict[str, Any]) -> Any:
    """`nft -j list table` output without what changes on every apply (handles, version info)."""
    items = [i for i in listed.get("nftables", []) if "metainfo" not in i]
    return _without_handles(items)


def _without_handles(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_handles(v) for k, v in value.items() if k != "handle"}
    if isinstance(value, list):
        return [_without_handles(v) for v in value]
    return value
