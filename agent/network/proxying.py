"""Service NAT (kube-proxy's job): Services and EndpointSlices in, table `ip <nft_table>` out.

Flow: watch events (handlers only mark `namespace/service` keys dirty) -> after a few
milliseconds of coalescing, one incremental transaction for the dirty services
(`NatApplier.update`) -> the kernel. A full sync (the whole table in one transaction)
runs at start, after any nft error, and when the periodic drift check finds the table
differing from what was applied.

Invariants: nothing is written before both watches have listed once (offline rule: an
agent started without its server leaves the last table in place), and while the server is
unreachable the caches do not change, so neither does the kernel. The caches are read,
never changed. Services are keyed `namespace/name`; slices are found through the
`kubernetes.io/service-name` label, indexed here because watchers give no label index.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import structlog

from agent.network.local import LocalNode
from agent.network.nat_applying import NatApplier
from agent.network.nat_drift import differences, read_actual
from agent.network.nat_model import ServiceNat, service_key_of_slice, service_nat
from agent.network.nat_rendering import NatContext
from agent.network.nft import NftError
from agent.settings import NetworkSettings
from agent.watches import SharedWatches
from edgekube.client import ENDPOINT_SLICES, SERVICES, key_of

log = structlog.get_logger(__name__)
Obj = dict[str, Any]

COALESCE_SECONDS = 0.005
"""Events arriving this soon after the first of a batch share its transaction: a rollout
touches a Service's slices several times in a row, and one nft call costs ~20 ms."""
RETRY_FIRST = 0.5
RETRY_MAX = 30.0
"""Seconds between attempts at a full sync that nft refused (doubling)."""


class Cache(Protocol):
    """What the proxy needs of a watcher (`edgekube.client.ListWatcher` has it)."""

    @property
    def cache(self) -> dict[str, Obj]: ...

    async def wait_synced(self) -> None: ...


async def run_service_proxy(*, settings: NetworkSettings, watches: SharedWatches, node: LocalNode) -> None:
    """Keep table `ip <settings.nft_table>` level with the cluster's Services until cancelled."""
    proxy = ServiceProxy(settings=settings, node=node)
    services = watches.watch(SERVICES, proxy.on_service)
    slices = watches.watch(ENDPOINT_SLICES, proxy.on_slice)
    await proxy.run(services=services, slices=slices)


class ServiceProxy:
    def __init__(self, *, settings: NetworkSettings, node: LocalNode) -> None:
        self._settings = settings
        self._node = node
        self.applier = NatApplier(NatContext(settings.nft_table, settings.cluster_cidr, settings.service_cidr))
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._slice_owner: dict[str, str] = {}
        self._slices_of: dict[str, set[str]] = {}
        self._services: Cache | None = None
        self._slices: Cache | None = None
        self._log = log.bind(node=node.name, table=settings.nft_table)

    # -- event handlers: no work, only keys ----------------------------------------------

    def on_service(self, kind: str, obj: Obj) -> None:
        self._mark(key_of(obj))

    def on_slice(self, kind: str, obj: Obj) -> None:
        key = key_of(obj)
        owner = None if kind == "DELETED" else service_key_of_slice(obj)
        before = self._slice_owner.get(key)
        if before != owner:
            self._unindex(key)
            if owner is not None:
                self._index(key, owner)
        for svc in {before, owner} - {None}:
            assert svc is not None
            self._mark(svc)

    def _mark(self, key: str) -> None:
        self._dirty.add(key)
        self._wake.set()

    def _index(self, slice_key: str, owner: str) -> None:
        self._slice_owner[slice_key] = owner
        self._slices_of.setdefault(owner, set()).add(slice_key)

    def _unindex(self, slice_key: str) -> None:
        owner = self._slice_owner.pop(slice_key, None)
        if owner is not None:
            keys = self._slices_of.get(owner, set())
            keys.discard(slice_key)
            if not keys:
                self._slices_of.pop(owner, None)

    # -- the loop ----------------------------------------------------------------------

    async def run(self, *, services: Cache, slices: Cache) -> None:
        self._services, self._slices = services, slices
        self._log.info("service proxy waiting for services and endpoint slices")
        await services.wait_synced()
        await slices.wait_synced()
        delay = RETRY_FIRST
        next_check = time.monotonic() + self._settings.resync_interval
        while True:
            if not self.applier.synced:
                try:
                    await self._full_sync()
                except NftError as err:
                    self._log.error("full sync of service NAT failed", error=str(err), retry_in=delay)
                    await asyncio.sleep(delay)
                    delay = min(RETRY_MAX, delay * 2)
                    continue
                delay = RETRY_FIRST
                next_check = time.monotonic() + self._settings.resync_interval
            try:
                async with asyncio.timeout(max(0.0, next_check - time.monotonic())):
                    await self._wake.wait()
            except TimeoutError:
                pass
            if self._dirty:
                await asyncio.sleep(COALESCE_SECONDS)
                await self._apply_dirty()
            self._wake.clear()
            if self._dirty:
                self._wake.set()  # marked while nft ran, or requeued: next round
            if time.monotonic() >= next_check and self.applier.synced:
                await self._check_drift()
                next_check = time.monotonic() + self._settings.resync_interval

    async def _full_sync(self) -> None:
        assert self._services is not None and self._slices is not None
        started = time.perf_counter()
        # Everything marked so far is in this snapshot; marks made while nft runs stay for the next round.
        self._dirty.clear()
        self._slice_owner.clear()
        self._slices_of.clear()
        for key, obj in self._slices.cache.items():
            owner = service_key_of_slice(obj)
            if owner is not None:
                self._index(key, owner)
        models = [m for m in (self._model(key) for key in list(self._services.cache)) if m is not None]
        await self.applier.full_sync(models)
        self._log.info("service NAT synced", services=len(models), seconds=round(time.perf_counter() - started, 3))

    async def _apply_dirty(self) -> None:
        batch, self._dirty = self._dirty, set()
        changes = {key: self._model(key) for key in batch}
        started = time.perf_counter()
        try:
            requeue = await self.applier.update(changes)
        except NftError as err:
            self._log.warning("service NAT update failed; syncing the whole table", error=str(err))
            return
        self._dirty |= requeue
        self._log.debug("service NAT updated", services=len(batch), seconds=round(time.perf_counter() - started, 4))

    async def _check_drift(self) -> None:
        try:
            reasons = differences(self.applier.expected(), await read_actual(self._settings.nft_table))
        except NftError as err:
            reasons = [f"cannot read the table: {err}"]
        if reasons:
            self._log.warning("service NAT table drifted; syncing it again", reasons=reasons)
            self.applier.synced = False

    def _model(self, key: str) -> ServiceNat | None:
        assert self._services is not None and self._slices is not None
        service = self._services.cache.get(key)
        if service is None:
            return None
        slice_cache = self._slices.cache
        slices = [slice_cache[k] for k in sorted(self._slices_of.get(key, ())) if k in slice_cache]
        return service_nat(service, slices, node_name=self._node.name, cluster_dns=self._settings.cluster_dns)
