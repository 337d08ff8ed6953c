"""The arithmetic of a rolling update: how far above and below `replicas` a rollout may go.

`maxSurge` and `maxUnavailable` are counts or percentages of `spec.replicas`; surge
rounds up and unavailable rounds down, so a small Deployment can always make progress
(4 replicas at 25%/25%: 1 extra pod, 1 pod down). If both come to 0 the rollout could
never move, so maxUnavailable becomes 1.

Worked example, the first steps of a rollout: replicas 10, maxSurge 3, maxUnavailable 2.
  sync 1: old RS 10 (10 available), new RS 0.
          new RS may grow to (10 + 3) - 10 = 3                      -> new 3 (0 available)
  sync 2: nothing may surge (13 pods). Old may shrink by
          budget = 13 - (10 - 2) - (3 new pods not yet available) = 2  -> old 8
  sync 3: the 3 new pods became available; 11 pods, room for 2       -> new 5
  sync 4: 2 of the new pods are not yet available;
          budget = 13 - 8 - (5 - 3) = 3                               -> old 5
  ... and so on until new 10, old 0. At no point are there more than 13 pods, or fewer
  than 8 available ones.

All helpers here are pure, over plain integers, so the tables in the tests cover them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgekube.resources.kinds.workload_intstr import scaled_value
from edgekube.resources.objects import Obj, get_path

ROLLING = "RollingUpdate"
RECREATE = "Recreate"


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    """(surge, unavailable) as pod counts out of `desired`.

    Worked example: desired 10, "25%"/"25%" -> (3, 2): 2.5 surge rounds up, 2.5
    unavailable rounds down. desired 1, "0%"/"25%" -> 0 and 0, so unavailable becomes 1.
    """
    surge = scaled_value(max_surge, desired, round_up=True)
    unavailable = scaled_value(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def strategy_type(deployment: Obj) -> str:
    return str(get_path(deployment, "spec", "strategy", "type") or ROLLING)


def desired_replicas(deployment: Obj) -> int:
    value = get_path(deployment, "spec", "replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _fenceposts(deployment: Obj) -> tuple[int, int]:
    rolling = get_path(deployment, "spec", "strategy", "rollingUpdate") or {}
    return resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), desired_replicas(deployment))


def max_surge(deployment: Obj) -> int:
    """Pods allowed above `replicas`; 0 for Recreate."""
    if strategy_type(deployment) != ROLLING:
        return 0
    return _fenceposts(deployment)[0]


def max_unavailable(deployment: Obj) -> int:
    """Pods allowed to be unavailable; 0 for Recreate or no replicas, never above `replicas`."""
    desired = desired_replicas(deployment)
    if strategy_type(deployment) != ROLLING or desired == 0:
        return 0
    return min(_fenceposts(deployment)[1], desired)


def new_rs_replicas(desired: int, surge: int, current_pods: int, new_replicas: int) -> int:
    """What the new ReplicaSet may grow to, with `current_pods` counted over all ReplicaSets.

    Worked example: desired 10, surge 3, 12 pods of which the new RS has 4: room for
    13 - 12 = 1 more, and the new RS still lacks 6, so it grows to 5.
    """
    max_total = desired + surge
    if current_pods >= max_total:
        return new_replicas
    return new_replicas + max(0, min(max_total - current_pods, desired - new_replicas))


def old_scale_down_budget(total: int, desired: int, unavailable: int, new_replicas: int, new_available: int) -> int:
    """How many old pods may go now (<= 0: none).

    The new ReplicaSet's pods that are not yet available already use up part of the
    allowed unavailability. Worked example: 13 pods, desired 10, maxUnavailable 2, new RS
    5 with 3 available: 13 - 8 - 2 = 3.
    """
    return total - (desired - unavailable) - (new_replicas - new_available)


def clean_up_unhealthy(olds: Sequence[tuple[int, int]], budget: int) -> list[int]:
    """New sizes for old ReplicaSets (oldest first, as (replicas, available)) after removing
    their unavailable pods first, at most `budget` in all.

    Worked example: olds [(3, 1), (4, 4)], budget 5 -> [1, 4]: the two unavailable pods
    of the first go; the second has none.
    """
    sizes: list[int] = []
    removed = 0
    for replicas, available in olds:
        cut = 0
        if removed < budget and replicas > 0:
            cut = max(0, min(budget - removed, replicas - available))
        sizes.append(replicas - cut)
        removed += cut
    return sizes


def scale_down_old(olds: Sequence[int], available: int, min_available: int, budget: int) -> list[int]:
    """New sizes for old ReplicaSets (oldest first) removing available pods above `min_available`.

    Kubernetes removes `available - min_available`; this also stops at `budget`, which
    only matters when a ReplicaSet's status still counts pods it has already been told to
    drop (then `available` is too high and the budget, made of spec sizes, is right).
    Worked example: olds [2, 5], 9 available, min 8, budget 3 -> [1, 5].
    """
    to_remove = min(available - min_available, budget)
    sizes: list[int] = []
    removed = 0
    for replicas in olds:
        cut = max(0, min(replicas, to_remove - removed))
        sizes.append(replicas - cut)
        removed += cut
    return sizes
