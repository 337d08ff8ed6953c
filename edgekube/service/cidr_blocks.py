"""The cluster CIDR cut into node-sized blocks, and what one Node write takes from them.

Blocks are numbered from 0: with 10.42.0.0/16 and /24 per node, block 0 is 10.42.0.0/24,
block 1 is 10.42.1.0/24, ... block 255 is 10.42.255.0/24. Numbers are what the shared
`Pool` hands out; this module turns them into CIDR text and back.

A stored Node holds every block its IPv4 pod CIDR overlaps, so a CIDR written before this
allocator (or by hand, of another size) still keeps others out of its addresses: counting
too much is the safe mistake. Planning only reads the pool and fills in the object; the
caller leases the plan's block in the same synchronous step.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import mapping, strings, text, writable
from edgekube.resources.objects import Obj
from edgekube.resources.validation import invalid_value
from edgekube.service.alloc_pools import Pool

NODE_MASK = 24  # k3s's --node-cidr-mask-size default for IPv4


@dataclass(frozen=True)
class Blocks:
    """`cluster` split into /`prefix` networks."""

    cluster: ipaddress.IPv4Network
    prefix: int

    @classmethod
    def of(cls, cluster_cidr: str, node_mask: int = NODE_MASK) -> Blocks:
        network = ipaddress.ip_network(cluster_cidr, strict=False)
        if not isinstance(network, ipaddress.IPv4Network):
            raise ValueError(f"cluster CIDR {cluster_cidr} is not IPv4; only IPv4 pod networks are supported")
        # A cluster CIDR smaller than one node block is one block (a single-node cluster).
        return cls(network, max(node_mask, network.prefixlen))

    @property
    def count(self) -> int:
        return 1 << (self.prefix - self.cluster.prefixlen)

    @property
    def _shift(self) -> int:
        return 32 - self.prefix

    def network(self, index: int) -> ipaddress.IPv4Network:
        base = int(self.cluster.network_address) + (index << self._shift)
        return ipaddress.IPv4Network((base, self.prefix))

    def text(self, index: int) -> str:
        return str(self.network(index))

    def overlapped(self, cidr: str) -> frozenset[int]:
        """The blocks `cidr` shares addresses with (none for IPv6, garbage or outside the cluster)."""
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return frozenset()
        if not isinstance(network, ipaddress.IPv4Network):
            return frozenset()
        start = max(int(network.network_address), int(self.cluster.network_address))
        end = min(int(network.broadcast_address), int(self.cluster.broadcast_address))
        if start > end:
            return frozenset()
        base = int(self.cluster.network_address)
        return frozenset(range((start - base) >> self._shift, ((end - base) >> self._shift) + 1))

    def problem(self, cidr: str) -> str | None:
        """Why `cidr` is not exactly one of the blocks (None when it is one)."""
        try:
            loose = ipaddress.ip_interface(cidr)
        except ValueError:
            return "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
        if not isinstance(loose, ipaddress.IPv4Interface) or not loose.network.subnet_of(self.cluster):
            return f"the pod CIDR must be inside the cluster CIDR {self.cluster}"
        if loose.network.prefixlen != self.prefix:
            return f"the pod CIDR must be a /{self.prefix}: every node gets a /{self.prefix} of {self.cluster}"
        if loose.ip != loose.network.network_address:
            return f"the pod CIDR must be a network address ({loose.network}), without host bits"
        return None


def ipv4_cidrs(node: Obj) -> list[tuple[int, str]]:
    """(index in spec.podCIDRs, value) of every IPv4 pod CIDR the Node names."""
    found = []
    for i, cidr in enumerate(strings(mapping(node.get("spec")).get("podCIDRs"))):
        try:
            if isinstance(ipaddress.ip_interface(cidr), ipaddress.IPv4Interface):
                found.append((i, cidr))
        except ValueError:
            continue
    return found


def node_holding(blocks: Blocks, node: Obj) -> frozenset[int]:
    """Every block the stored `node` holds: those its IPv4 pod CIDRs overlap."""
    held: set[int] = set()
    for _, cidr in ipv4_cidrs(node):
        held |= blocks.overlapped(cidr)
    return frozenset(held)


@dataclass
class CidrPlan:
    owner: str  # the Node's name
    now: float
    lease: int | None = None  # the block to lease for this write
    causes: list[Cause] = field(default_factory=list)  # refused requests (422)
    full: bool = False  # nothing left to hand out


def plan_node_cidr(blocks: Blocks, pool: Pool, node: Obj, old: Obj | None, owner: str, now: float) -> CidrPlan:
    """What this write of `node` (replacing `old`, if any) takes; fills in a free block when it names none."""
    plan = CidrPlan(owner, now)
    spec = writable(node, "spec")
    if spec is None:
        return plan  # not an object: validation refused it already
    kept = strings(mapping(old.get("spec")).get("podCIDRs")) if old is not None else []
    requested = ipv4_cidrs(node)
    if not requested:
        if strings(spec.get("podCIDRs")):
            return plan  # an IPv6-only node: nothing of ours to give or check
        picked = pool.lowest(now)
        if picked is None:
            plan.full = True
            return plan
        spec["podCIDR"] = blocks.text(picked)
        spec["podCIDRs"] = [blocks.text(picked)]
        plan.lease = picked
        return plan
    i, cidr = requested[0]
    path = "spec.podCIDR" if i == 0 and text(spec.get("podCIDR")) == cidr else f"spec.podCIDRs[{i}]"
    if cidr in kept:
        # The Node keeps what it had, even a CIDR from a cluster CIDR this server had before:
        # refusing it would make the Node impossible to update.
        return plan
    problem = blocks.problem(cidr)
    if problem is not None:
        plan.causes.append(invalid_value(path, cidr, problem))
        return plan
    (index,) = blocks.overlapped(cidr)
    others = [h for h in pool.holders(index, now) if h != owner]
    if others:
        plan.causes.append(invalid_value(path, cidr, f'the pod CIDR is already allocated to node "{others[0]}"'))
        return plan
    plan.lease = index
    return plan
