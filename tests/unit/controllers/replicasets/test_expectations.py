"""Expectations: a controller waits for its own creates and deletes to arrive before acting again."""

from __future__ import annotations

from edgekube.controllers.replicasets.expectations import Expectations


def test_unknown_key_may_act() -> None:
    """Nothing recorded: nothing to wait for."""
    assert Expectations().satisfied("ns/web")


def test_creates_must_all_arrive() -> None:
    """Two creates expected: satisfied only once both were observed."""
    exp = Expectations()
    exp.expect("ns/web", adds=2)
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    assert not exp.satisfied("ns/web") and exp.outstanding("ns/web") == (1, 0)
    exp.creation_observed("ns/web")
    assert exp.satisfied("ns/web")


def test_deletes_are_tracked_by_pod_and_count_once() -> None:
    """A deletion seen twice (graceful mark, then removal) counts once; another pod's does not count."""
    exp = Expectations()
    exp.expect("ns/web", deletes=["ns/a", "ns/b"])
    exp.deletion_observed("ns/web", "ns/a")
    exp.deletion_observed("ns/web", "ns/a")
    exp.deletion_observed("ns/web", "ns/zzz")
    assert exp.outstanding("ns/web") == (0, 1)
    exp.deletion_observed("ns/web", "ns/b")
    assert exp.satisfied("ns/web")


def test_expire_after_ttl() -> None:
    """An event that never comes delays the controller by the TTL, not forever."""
    now = [100.0]
    exp = Expectations(ttl=300, clock=lambda: now[0])
    exp.expect("ns/web", adds=1)
    now[0] += 299
    assert not exp.satisfied("ns/web")
    now[0] += 2
    assert exp.satisfied("ns/web")


def test_forget() -> None:
    """A deleted ReplicaSet's expectations go with it."""
    exp = Expectations()
    exp.expect("ns/web", adds=3)
    exp.forget("ns/web")
    assert exp.satisfied("ns/web") and exp.outstanding("ns/web") == (0, 0)
