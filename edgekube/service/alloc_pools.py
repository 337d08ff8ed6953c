"""A pool of integers handed out in the write path: cluster IPs (as ints), node ports, pod CIDR blocks.

A value is taken when a stored Service holds it (the informer says so) or when a write
in flight leased it at admission a moment ago. The stored view is the truth; a lease
only covers the gap between admission and the watch event that shows the write, and
then expires, so a write that failed frees its value without anyone noticing the
failure. Owners are object keys (`namespace/name`, or a Node's name): a value held or
leased by the same key is free *for that key* (a retried write, a re-created object),
never for another.

Invariants kept here:
  - `pick` and `lease` are synchronous; callers pick and lease without an await in
    between, so two concurrent writes never get the same value;
  - `pick` and `lowest` never return an excluded value (the `kubernetes` and DNS
    addresses), though a caller may still grant one that a Service asks for by name.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass

# Random probes before falling back to a scan: with a quarter of a range taken, 16 probes
# all miss with probability 0.25**16 (about 2e-10), so the scan only runs when nearly full.
PROBES = 16


@dataclass(slots=True)
class Lease:
    owner: str
    until: float  # clock seconds


class Pool:
    """The values `low`..`high` (inclusive), who holds each, and short leases for writes in flight."""

    def __init__(self, low: int, high: int, *, excluded: Iterable[int] = (), rng: random.Random | None = None) -> None:
        if low > high:
            raise ValueError(f"empty range {low}-{high}")
        self.low = low
        self.high = high
        self.excluded = frozenset(v for v in excluded if low <= v <= high)
        # Usually one owner per value; more only if the store already held duplicates
        # (data written before this allocator), and then releasing one must not free it.
        self._owners: dict[int, tuple[str, ...]] = {}
        # Every lease lasts as long as the others, so insertion order is expiry order
        # (a renewed lease is re-inserted at the end); `expire` pops from the front.
        self._leases: dict[int, Lease] = {}
        self._rng = rng or random.Random()

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def __contains__(self, value: int) -> bool:
        return self.low <= value <= self.high

    # -- what stored Services hold (fed by the informer) ------------------------------------

    def hold(self, value: int, owner: str) -> None:
        """A stored Service holds `value`; its lease, if any, has done its job."""
        if value not in self:
            return  # e.g. an address from a service CIDR this cluster had before
        owners = self._owners.get(value, ())
        if owner not in owners:
            self._owners[value] = (*owners, owner)
        lease = self._leases.get(value)
        if lease is not None and lease.owner == owner:
            del self._leases[value]

    def release(self, value: int, owner: str) -> None:
        owners = tuple(o for o in self._owners.get(value, ()) if o != owner)
        if owners:
            self._owners[value] = owners
        else:
            self._owners.pop(value, None)

    def clear_holdings(self) -> None:
        """Forget stored holdings before a re-list; leases stay, they cover writes in flight."""
        self._owners.clear()

    @property
    def held(self) -> int:
        return len(self._owners)

    # -- leases (made at admission) ---------------------------------------------------------

    def lease(self, value: int, owner: str, until: float) -> None:
        self._leases.pop(value, None)
        self._leases[value] = Lease(owner, until)

    def expire(self, now: float) -> None:
        """Drop the leases that ran out."""
        while self._leases:
            value, lease = next(iter(self._leases.items()))
            if lease.until > now:
                return
            del self._leases[value]

    @property
    def leased(self) -> int:
        return len(self._leases)

    # -- questions --------------------------------------------------------------------------

    def holders(self, value: int, now: float) -> tuple[str, ...]:
        """Every key that holds `value` or has a live lease on it."""
        owners = self._owners.get(value, ())
        lease = self._leases.get(value)
        if lease is not None and lease.until > now and lease.owner not in owners:
            owners = (*owners, lease.owner)
        return owners

    def free_for(self, value: int, owner: str, now: float) -> bool:
        """May `owner` have `value`? Yes if nobody else holds or leases it."""
        return all(h == owner for h in self.holders(value, now))

    def pick(self, now: float, *, avoid: Collection[int] = ()) -> int | None:
        """A random value nobody holds or leases (not excluded, not in `avoid`); None if full."""
        for _ in range(PROBES):
            value = self._rng.randint(self.low, self.high)
            if self._pickable(value, now, avoid):
                return value
        # Nearly full: walk the whole range once, from a random place so that the
        # survivors are not handed out lowest first.
        start = self._rng.randrange(self.size)
        for i in range(self.size):
            value = self.low + (start + i) % self.size
            if self._pickable(value, now, avoid):
                return value
        return None

    def lowest(self, now: float) -> int | None:
        """The lowest value nobody holds or leases (not excluded); None if full.

        Pod CIDRs are handed out lowest first (10.42.0.0/24, 10.42.1.0/24 ...) so that a
        cluster's addresses read in join order; a linear walk is fine for the few hundred
        to few thousand blocks a cluster CIDR holds.
        """
        for value in range(self.low, self.high + 1):
            if self._pickable(value, now, ()):
                return value
        return None

    def _pickable(self, value: int, now: float, avoid: Collection[int]) -> bool:
        return value not in self.excluded and value not in avoid and not self.holders(value, now)
