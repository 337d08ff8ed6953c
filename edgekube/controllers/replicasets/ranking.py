"""Which pods a ReplicaSet deletes first when it has too many: the least valuable ones.

The order follows Kubernetes, each rule breaking the ties of the one before:
  1. not yet on a node, before assigned;
  2. Pending, before Unknown, before Running;
  3. not ready, before ready;
  4. a lower `controller.kubernetes.io/pod-deletion-cost`, before a higher one;
  5. ready for less time, before ready for more (both ready);
  6. more container restarts, before fewer;
  7. newer, before older (a missing creation time counts as newest);
  8. the name, so the order is the same every time.
Kubernetes also prefers pods doubled up on one node with their siblings; EdgeKube does
not (yet) weigh that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from edgekube.controllers.replicasets.readiness import is_ready, ready_since, restart_count
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import parse_time

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}  # any other phase ranks with Pending

RankKey = tuple[int, int, int, int, float, int, float, str]


def deletion_rank(pod: Obj) -> RankKey:
    """A sort key: the pod with the smallest key is deleted first."""
    ready = is_ready(pod)
    since = ready_since(pod) if ready else None
    created = parse_time(get_path(pod, "metadata", "creationTimestamp"))
    return (
        1 if get_path(pod, "spec", "nodeName") else 0,
        _PHASE_ORDER.get(str(get_path(pod, "status", "phase")), 0),
        1 if ready else 0,
        _deletion_cost(pod),
        # Later readiness (less time ready) sorts first; an unknown time counts as just now.
        0.0 if not ready else (-math.inf if since is None else -since.timestamp()),
        -restart_count(pod),
        -math.inf if created is None else -created.timestamp(),
        str(get_path(pod, "metadata", "name") or ""),
    )


def _deletion_cost(pod: Obj) -> int:
    value = get_path(pod, "metadata", "annotations", DELETION_COST)
    try:
        return int(value) if isinstance(value, str) else 0
    except ValueError:
        return 0


def pods_to_delete(pods: Sequence[Obj], count: int) -> list[Obj]:
    """The `count` least valuable of `pods`, least valuable first."""
    if count <= 0:
        return []
    return sorted(pods, key=deletion_rank)[:count]
