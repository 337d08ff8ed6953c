"""Pools: random picks that skip what is held, leased or excluded; leases that expire; shared holdings."""

from __future__ import annotations

import random

import pytest

from edgekube.service.alloc_pools import Pool


def pool(low: int = 1, high: int = 100, excluded: tuple[int, ...] = ()) -> Pool:
    return Pool(low, high, excluded=excluded, rng=random.Random(1))


def test_pick_is_random_and_in_range() -> None:
    """Picks land inside the range and are not handed out in order."""
    p = pool(1, 65534)
    picks = [v for v in (p.pick(0.0) for _ in range(20)) if v is not None]
    assert len(picks) == 20 and all(1 <= v <= 65534 for v in picks)
    assert picks != sorted(picks) and len(set(picks)) > 1


def test_pick_skips_held_leased_excluded_and_avoided() -> None:
    """With everything but one value taken in some way, that value is the pick."""
    p = pool(1, 10, excluded=(1,))
    for v in (2, 3, 4):
        p.hold(v, "ns/a")
    for v in (5, 6):
        p.lease(v, "ns/b", until=10.0)
    assert p.pick(0.0, avoid={7, 8, 9}) == 10


def test_full_range_gives_none() -> None:
    """Nothing left to pick is None, not an endless search."""
    p = pool(1, 5, excluded=(1,))
    for v in range(2, 6):
        p.hold(v, f"ns/s{v}")
    assert p.pick(0.0) is None


def test_scan_finds_the_last_free_value() -> None:
    """When random probes miss, the fallback walk still finds the one free value in a /16."""
    p = pool(1, 65534)
    for v in range(1, 65535):
        if v != 40000:
            p.hold(v, "ns/x")
    assert p.pick(0.0) == 40000


def test_excluded_value_can_still_be_requested() -> None:
    """Exclusion only keeps a value out of random picks: a named request may have it."""
    p = pool(1, 3, excluded=(1,))
    assert all(p.pick(0.0) != 1 for _ in range(50))
    assert p.free_for(1, "default/kubernetes", 0.0)


@pytest.mark.parametrize(
    ("owner", "now", "free"),
    [
        ("ns/a", 5.0, True),  # the lease holder itself (a retried write)
        ("ns/b", 5.0, False),  # someone else while the lease lives
        ("ns/b", 10.0, True),  # someone else once it ran out
    ],
)
def test_lease_blocks_others_until_it_expires(owner: str, now: float, free: bool) -> None:
    """A lease keeps a value for its owner until `until`."""
    p = pool()
    p.lease(42, "ns/a", until=10.0)
    assert p.free_for(42, owner, now) is free


def test_expire_drops_only_ran_out_leases() -> None:
    """`expire` pops the leases that ended and keeps the live ones."""
    p = pool()
    p.lease(1, "ns/a", until=5.0)
    p.lease(2, "ns/b", until=6.0)
    p.lease(3, "ns/c", until=9.0)
    p.expire(6.0)
    assert p.leased == 1 and p.holders(3, 6.0) == ("ns/c",)


def test_hold_replaces_the_owners_lease() -> None:
    """Once the store shows the owner holding its leased value, the lease is gone and the hold stays."""
    p = pool()
    p.lease(42, "ns/a", until=10.0)
    p.hold(42, "ns/a")
    assert p.leased == 0
    assert p.holders(42, 100.0) == ("ns/a",)


def test_release_keeps_a_value_another_service_still_holds() -> None:
    """Two stored holders of one value (old data): releasing one leaves it taken."""
    p = pool()
    p.hold(42, "ns/a")
    p.hold(42, "ns/b")
    p.release(42, "ns/a")
    assert p.holders(42, 0.0) == ("ns/b",)
    p.release(42, "ns/b")
    assert p.holders(42, 0.0) == () and p.held == 0


def test_values_outside_the_range_are_not_held() -> None:
    """A stored value from another range (an old service CIDR) takes nothing here."""
    p = pool(1, 10)
    p.hold(11, "ns/a")
    assert p.held == 0 and 11 not in p


def test_empty_range_is_refused() -> None:
    """A range whose low end is above its high end is a configuration error."""
    with pytest.raises(ValueError):
        Pool(10, 9)
