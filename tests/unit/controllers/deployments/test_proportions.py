"""Proportional scaling: each active ReplicaSet keeps its share when replicas change mid-rollout."""

from __future__ import annotations

import pytest

from edgekube.controllers.deployments.proportions import Share, proportional_sizes
from edgekube.controllers.deployments.scaling import active_or_latest, scaling_order
from edgekube.resources.objects import Obj


@pytest.mark.parametrize(
    ("shares", "desired", "surge", "fallback", "expected"),
    [
        # The worked example in `proportions`: 10 -> 20, surge 25%.
        ([Share(8, 13), Share(5, 13)], 20, 5, 13, [15, 10]),
        # Same with an absolute maxSurge of 3: 23 allowed.
        ([Share(8, 13), Share(5, 13)], 20, 3, 13, [14, 9]),
        # Scale down 10 -> 5 (surge 2): 7 allowed, 13 running.
        ([Share(8, 13), Share(5, 13)], 5, 2, 13, [4, 3]),
        # To zero: everything goes.
        ([Share(8, 13), Share(5, 13)], 0, 0, 13, [0, 0]),
        # Rounding leaves one over: the largest takes it.
        ([Share(3, 7), Share(3, 7), Share(1, 7)], 9, 1, 7, [5, 4, 1]),
        # No annotation: the Deployment's status.replicas is the base.
        ([Share(6, None), Share(2, None)], 12, 0, 8, [9, 3]),
        # Nothing to add: sizes stay.
        ([Share(8, 13), Share(5, 13)], 10, 3, 13, [8, 5]),
    ],
)
def test_proportional_sizes(shares: list[Share], desired: int, surge: int, fallback: int, expected: list[int]) -> None:
    """Every ReplicaSet grows or shrinks by its share; the sizes add up to replicas + surge."""
    sizes = proportional_sizes(shares, desired, surge, fallback)
    assert sizes == expected
    assert sum(sizes) == (desired + surge if desired else 0)


def rs(name: str, replicas: int, created: str = "2024-01-01T00:00:00Z") -> Obj:
    return {"metadata": {"name": name, "creationTimestamp": created}, "spec": {"replicas": replicas}}


def test_scaling_order() -> None:
    """Largest first; among equals newest first when growing, oldest first when shrinking."""
    a, b, c = rs("a", 3, "2024-01-01T00:00:00Z"), rs("b", 3, "2024-01-02T00:00:00Z"), rs("c", 5)
    assert [r["metadata"]["name"] for r in scaling_order([a, b, c], growing=True)] == ["c", "b", "a"]
    assert [r["metadata"]["name"] for r in scaling_order([a, b, c], growing=False)] == ["c", "a", "b"]


def test_active_or_latest() -> None:
    """One active: that one; none: the new one (or the newest old); several: none."""
    old1, old2 = rs("o1", 0, "2024-01-01T00:00:00Z"), rs("o2", 0, "2024-01-02T00:00:00Z")
    assert active_or_latest(rs("n", 0), [old1, old2])["metadata"]["name"] == "n"  # type: ignore[index]
    assert active_or_latest(None, [old1, old2])["metadata"]["name"] == "o2"  # type: ignore[index]
    assert active_or_latest(rs("n", 0), [rs("o", 2)])["metadata"]["name"] == "o"  # type: ignore[index]
    assert active_or_latest(rs("n", 1), [rs("o", 2)]) is None
    assert active_or_latest(None, []) is None
