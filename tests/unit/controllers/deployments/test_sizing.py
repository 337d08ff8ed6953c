"""Rolling-update arithmetic: surge and unavailability, new ReplicaSet size, old pods to remove."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.controllers.deployments.sizing import (
    clean_up_unhealthy,
    max_surge,
    max_unavailable,
    new_rs_replicas,
    old_scale_down_budget,
    resolve_fenceposts,
    scale_down_old,
)


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("25%", "25%", 10, (3, 2)),  # 2.5 up, 2.5 down
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 1, (1, 0)),
        ("25%", "25%", 3, (1, 0)),
        ("0%", "25%", 1, (0, 1)),  # both 0: unavailable becomes 1
        (0, 0, 5, (0, 1)),
        (1, 0, 6, (1, 0)),
        ("100%", "0%", 3, (3, 0)),
        ("50%", "50%", 5, (3, 2)),
        (2, "10%", 30, (2, 3)),
        ("25%", "25%", 0, (0, 1)),
        ("34%", "34%", 3, (2, 1)),
    ],
)
def test_resolve_fenceposts(surge: Any, unavailable: Any, desired: int, expected: tuple[int, int]) -> None:
    """Percentages scale: surge rounds up, unavailable down; 0 and 0 would never move."""
    assert resolve_fenceposts(surge, unavailable, desired) == expected


def deployment(replicas: int, surge: Any = "25%", unavailable: Any = "25%", kind: str = "RollingUpdate") -> Any:
    strategy: dict[str, Any] = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"spec": {"replicas": replicas, "strategy": strategy}}


@pytest.mark.parametrize(
    ("d", "surge", "unavailable"),
    [
        (deployment(10), 3, 2),
        (deployment(10, kind="Recreate"), 0, 0),
        (deployment(0), 0, 0),  # nothing may be unavailable of nothing
        (deployment(2, unavailable=5), 1, 2),  # never more than replicas
        (deployment(3, surge=0, unavailable=0), 0, 1),
    ],
)
def test_max_surge_and_unavailable(d: Any, surge: int, unavailable: int) -> None:
    """Per Deployment: Recreate has neither; unavailable is capped at replicas."""
    assert (max_surge(d), max_unavailable(d)) == (surge, unavailable)


@pytest.mark.parametrize(
    ("desired", "surge", "pods", "new", "expected"),
    [
        (10, 3, 10, 0, 3),  # first step of the worked example
        (10, 3, 13, 3, 3),  # at the surge limit: stay
        (10, 3, 11, 3, 5),
        (10, 3, 12, 4, 5),  # room for one more
        (10, 3, 3, 3, 10),  # old ones gone: straight to desired
        (6, 1, 6, 0, 1),  # maxSurge 1: one at a time
        (6, 1, 7, 1, 1),
        (3, 0, 3, 0, 0),  # no surge: wait for old pods to go
        (3, 0, 2, 0, 1),
        (5, 2, 0, 0, 5),  # nothing else running
        (5, 2, 14, 2, 2),  # more pods than allowed (a scale-down under way)
    ],
)
def test_new_rs_replicas(desired: int, surge: int, pods: int, new: int, expected: int) -> None:
    """The new ReplicaSet grows into the room surge leaves, never past desired."""
    assert new_rs_replicas(desired, surge, pods, new) == expected


@pytest.mark.parametrize(
    ("total", "desired", "unavailable", "new", "new_available", "expected"),
    [
        (13, 10, 2, 3, 0, 2),  # worked example, sync 2
        (13, 10, 2, 5, 3, 3),  # sync 4
        (7, 6, 0, 1, 0, 0),  # maxUnavailable 0: wait for the new pod
        (7, 6, 0, 1, 1, 1),
        (10, 10, 2, 0, 0, 2),  # no new pods yet: only unavailability
        (6, 6, 0, 3, 1, -2),  # nothing may go
    ],
)
def test_old_scale_down_budget(
    total: int, desired: int, unavailable: int, new: int, new_available: int, expected: int
) -> None:
    """New pods not yet available use up the allowed unavailability first."""
    assert old_scale_down_budget(total, desired, unavailable, new, new_available) == expected


@pytest.mark.parametrize(
    ("olds", "budget", "expected"),
    [
        ([(3, 1), (4, 4)], 5, [1, 4]),
        ([(3, 1), (4, 2)], 3, [1, 3]),  # the oldest first, then what the budget leaves
        ([(3, 3)], 2, [3]),  # all healthy
        ([(0, 0), (2, 0)], 1, [0, 1]),
        ([(2, 5)], 3, [2]),  # status above spec (stale): nothing to clean
    ],
)
def test_clean_up_unhealthy(olds: list[tuple[int, int]], budget: int, expected: list[int]) -> None:
    """Unavailable old pods go before any available one, within the budget."""
    assert clean_up_unhealthy(olds, budget) == expected


@pytest.mark.parametrize(
    ("olds", "available", "min_available", "budget", "expected"),
    [
        ([2, 5], 9, 8, 3, [1, 5]),  # the oldest first
        ([2, 5], 12, 8, 9, [0, 3]),
        ([2, 5], 8, 8, 3, [2, 5]),  # at the minimum: none
        ([6], 8, 6, 1, [5]),  # a stale status says 8 available; the budget says 1
        ([3], 20, 0, 10, [0]),
    ],
)
def test_scale_down_old(olds: list[int], available: int, min_available: int, budget: int, expected: list[int]) -> None:
    """Available pods above the minimum go, oldest ReplicaSet first, never past the budget."""
    assert scale_down_old(olds, available, min_available, budget) == expected
