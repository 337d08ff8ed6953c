"""Pod CIDRs for Nodes, allocated in the write path (the node IPAM of kube-controller-manager, moved into admission).

Every Node created or updated without an IPv4 `spec.podCIDR` gets the lowest free block of
the cluster CIDR (10.42.0.0/24, 10.42.1.0/24 ...) in the same write, so an agent that
registers with a POST reads its pod CIDR in the create response. A CIDR the client names
is granted if it is one free block of the cluster CIDR, else the write fails with 422.

Two halves share one `Pool` of block numbers, as the Service allocator does:
  - the informer (`run`) lists the stored Nodes, then follows their watch: who holds which
    block is exactly what the store says, so allocations survive restarts and a deleted
    Node frees its block once its DELETED event arrives;
  - the admission plug-in (`__call__`) plans the write (`cidr_blocks.plan_node_cidr`) and
    leases the block it grants for `lease_seconds`, covering the gap until the watch shows
    the stored Node; a failed write's lease simply runs out.

Planning and leasing run without an await in between, so two Nodes registering at once
never get the same block. A block is never handed out twice: it is free only when no
stored Node holds it and no live lease names another Node.

When every block is taken a Node is still written, without a pod CIDR, and a warning is
logged (as the Kubernetes node IPAM controller leaves such a node waiting): refusing the
registration would hide the node from `kubectl get nodes` and its pods from the scheduler
for a reason only the cluster's address plan can fix.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from edgekube.errors import invalid
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service.alloc_following import following, wait_synced
from edgekube.service.alloc_pools import Pool
from edgekube.service.allocating import LEASE_SECONDS
from edgekube.service.cidr_blocks import NODE_MASK, Blocks, node_holding, plan_node_cidr
from edgekube.store.store import Store
from edgekube.store.types import Event, EventType, StoredObject

log = structlog.get_logger(__name__)

NODES = "core/nodes"


class NodeCIDRAllocator:
    """Admission plug-in and informer for Node pod CIDRs."""

    def __init__(
        self,
        store: Store,
        cluster_cidr: str,
        *,
        node_mask: int = NODE_MASK,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.blocks = Blocks.of(cluster_cidr, node_mask)
        self.pool = Pool(0, self.blocks.count - 1)
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._held: dict[str, frozenset[int]] = {}  # Node name -> blocks its stored pod CIDR overlaps
        self._starved: set[str] = set()  # Nodes already warned about a full range
        self._synced = asyncio.Event()
        self.revision = 0  # the newest store revision the informer has applied

    # -- admission --------------------------------------------------------------------------

    async def __call__(self, operation: str, strategy: Strategy, obj: Obj, old: Obj | None) -> None:
        if operation not in ("CREATE", "UPDATE") or strategy.kind.store_key != NODES:
            return
        await wait_synced(self._synced, "pod CIDR allocator")
        name = str((obj.get("metadata") or {}).get("name") or "")
        # From here to the lease: no await, so no other write can take the same block.
        now = self.clock()
        self.pool.expire(now)
        plan = plan_node_cidr(self.blocks, self.pool, obj, old if operation == "UPDATE" else None, name, now)
        if plan.causes:
            raise invalid(strategy.kind.kind, name, plan.causes, strategy.kind.group)
        if plan.full:
            if name not in self._starved:
                # Once per node: a simulated fleet larger than the range would flood the log.
                self._starved.add(name)
                log.warning(
                    "no pod CIDR left for node; it is stored without one",
                    node=name,
                    cluster_cidr=str(self.blocks.cluster),
                    blocks=self.blocks.count,
                )
            return
        if plan.lease is not None:
            self.pool.lease(plan.lease, name, now + self.lease_seconds)
            log.info("pod CIDR granted", node=name, pod_cidr=self.blocks.text(plan.lease))

    # -- informer ---------------------------------------------------------------------------

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def run(self) -> None:
        """List the stored Nodes, then follow their changes until cancelled."""
        await following(
            store=self.store,
            resource=NODES,
            rebuild=self._rebuild,
            follow=self._follow,
            synced=self._synced,
            on_revision=self._applied,
            name="pod-cidrs",
        )

    def _applied(self, revision: int) -> None:
        self.revision = revision

    def _rebuild(self, stored: list[StoredObject]) -> None:
        self._held = {}
        self.pool.clear_holdings()
        for item in stored:
            self._set(item.key.name, node_holding(self.blocks, item.decode()))
        log.info("pod CIDR holdings rebuilt", nodes=len(stored), blocks_held=self.pool.held, blocks=self.blocks.count)

    def _follow(self, event: Event) -> None:
        if event.type is EventType.DELETED:
            self._set(event.key.name, frozenset())
        else:
            self._set(event.key.name, node_holding(self.blocks, event.decoded()))

    def _set(self, owner: str, new: frozenset[int]) -> None:
        """`owner` now holds `new` (nothing once deleted): release what it let go, hold the rest."""
        for index in self._held.get(owner, frozenset()) - new:
            self.pool.release(index, owner)
        for index in new:
            self.pool.hold(index, owner)
        if new:
            self._held[owner] = new
        else:
            self._held.pop(owner, None)


__all__ = ["NodeCIDRAllocator"]
