"""Cluster IPs and node ports for Services, allocated in the write path as kube-apiserver does.

Two halves share the pools (`alloc_pools`):
  - the informer (`run`) lists the stored Services, then follows their watch, and keeps
    "which Service holds which value" exactly as the store says; it is the truth, so
    allocations survive restarts and a deleted Service frees its values once its DELETED
    event arrives (deletes never pass through admission);
  - the admission plug-in (`__call__`) plans a Service write (`alloc_planning`), fills in
    what the client left empty, refuses what is taken (422), and leases the values it
    grants for `lease_seconds`: long enough for the store write and its watch event, short
    enough that a write that failed (or a dry run) frees them again by itself.

Planning and leasing run without an await in between, so concurrent writes on the one
event loop never share a value. The informer must have listed once before the first
allocation; until then writes of Services wait (at most `alloc_following.SYNC_TIMEOUT`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from collections.abc import Callable

import structlog

from edgekube.errors import InternalError, invalid
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service.alloc_following import following, wait_synced
from edgekube.service.alloc_holdings import NOTHING, Holding, holding
from edgekube.service.alloc_planning import Plan, Ranges, plan_allocations
from edgekube.service.alloc_pools import Pool
from edgekube.store.store import Store
from edgekube.store.types import Event, EventType, StoredObject

log = structlog.get_logger(__name__)

SERVICES = "core/services"
# Seconds a value granted at admission stays taken without a stored Service holding it.
# A write normally shows up in the watch within milliseconds; on a slow SD card under
# load the group commit can take seconds, so leave a wide margin. The cost of a long
# lease is only that a failed write keeps its values from others for this long.
LEASE_SECONDS = 60.0
# k3s gives the cluster DNS service the tenth address of the service CIDR (10.43.0.10).
DNS_OFFSET = 10


def address_pool(network: ipaddress.IPv4Network, cluster_dns: str | None, rng: random.Random | None) -> Pool:
    """The usable addresses of `network`, with the `kubernetes` and DNS addresses kept out of random picks.

    10.43.0.0/16: 10.43.0.0 (network) and 10.43.255.255 (broadcast) are outside the pool;
    10.43.0.1 (the `kubernetes` service) and 10.43.0.10 (cluster DNS) are inside it, so a
    Service may ask for them by name, but never handed out at random.
    """
    if network.num_addresses < 4:
        raise ValueError(f"service CIDR {network} is too small: it needs at least a /30")
    first, last = int(network.network_address) + 1, int(network.broadcast_address) - 1
    dns = int(ipaddress.IPv4Address(cluster_dns)) if cluster_dns else int(network.network_address) + DNS_OFFSET
    return Pool(first, last, excluded=(first, dns), rng=rng)


class ServiceAllocator:
    """Admission plug-in and informer for Service cluster IPs and node ports."""

    def __init__(
        self,
        store: Store,
        service_cidr: str,
        node_ports: tuple[int, int],
        *,
        cluster_dns: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        network = ipaddress.ip_network(service_cidr)
        if not isinstance(network, ipaddress.IPv4Network):
            raise ValueError(f"service CIDR {service_cidr} is not IPv4; only IPv4 Services are supported")
        self.store = store
        self.ranges = Ranges(
            ips=address_pool(network, cluster_dns, rng),
            cidr=str(network),
            ports=Pool(node_ports[0], node_ports[1], rng=rng),
        )
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._held: dict[str, Holding] = {}  # `namespace/name` -> what that stored Service holds
        self._synced = asyncio.Event()
        self.revision = 0  # the newest store revision the informer has applied

    # -- admission --------------------------------------------------------------------------

    async def __call__(self, operation: str, strategy: Strategy, obj: Obj, old: Obj | None) -> None:
        if operation not in ("CREATE", "UPDATE") or strategy.kind.store_key != SERVICES:
            return
        await wait_synced(self._synced, "service IP allocator")
        md = obj.get("metadata") or {}
        name = str(md.get("name") or "")
        owner = f"{md.get('namespace') or ''}/{name}"
        # From here to the leases: no await, so no other write can pick the same values.
        now = self.clock()
        self.ranges.ips.expire(now)
        self.ranges.ports.expire(now)
        plan = plan_allocations(self.ranges, obj, old if operation == "UPDATE" else None, owner, now)
        if plan.causes:
            raise invalid(strategy.kind.kind, name, plan.causes, strategy.kind.group)
        if plan.full:
            raise InternalError(f"Internal error occurred: failed to allocate a {plan.full[0]}: range is full")
        self._lease(plan)

    def _lease(self, plan: Plan) -> None:
        until = plan.now + self.lease_seconds
        for value in plan.ips:
            self.ranges.ips.lease(value, plan.owner, until)
        for value in plan.ports:
            self.ranges.ports.lease(value, plan.owner, until)

    # -- informer ---------------------------------------------------------------------------

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def run(self) -> None:
        """List the stored Services, then follow their changes until cancelled; re-list when the watch breaks."""
        await following(
            store=self.store,
            resource=SERVICES,
            rebuild=self._rebuild_from,
            follow=self._follow,
            synced=self._synced,
            on_revision=self._applied,
            name="service-ips",
        )

    def _applied(self, revision: int) -> None:
        self.revision = revision

    def _rebuild_from(self, stored: list[StoredObject]) -> None:
        self._rebuild({f"{i.key.namespace}/{i.key.name}": holding(i.decode()) for i in stored})
        log.info("service holdings rebuilt", ips=self.ranges.ips.held, node_ports=self.ranges.ports.held)

    def _follow(self, event: Event) -> None:
        owner = f"{event.key.namespace}/{event.key.name}"
        if event.type is EventType.DELETED:
            self._set(owner, NOTHING)
        else:
            self._set(owner, holding(event.decoded()))

    def _rebuild(self, held: dict[str, Holding]) -> None:
        self._held = {}
        self.ranges.ips.clear_holdings()
        self.ranges.ports.clear_holdings()
        for owner, now_held in held.items():
            self._set(owner, now_held)

    def _set(self, owner: str, new: Holding) -> None:
        """`owner` now holds `new` (NOTHING once deleted): release what it let go, hold the rest."""
        old = self._held.get(owner, NOTHING)
        if old.ip is not None and old.ip != new.ip:
            self.ranges.ips.release(old.ip, owner)
        for port in old.node_ports - new.node_ports:
            self.ranges.ports.release(port, owner)
        if new.ip is not None:
            self.ranges.ips.hold(new.ip, owner)
        for port in new.node_ports:
            self.ranges.ports.hold(port, owner)
        if new == NOTHING:
            self._held.pop(owner, None)
        else:
            self._held[owner] = new


__all__ = ["ServiceAllocator"]
