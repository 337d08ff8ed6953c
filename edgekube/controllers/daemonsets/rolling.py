"""RollingUpdate: replace old-template pods node by node, never more than maxUnavailable down.

Kubernetes' `rollingUpdate` without surge. Deleting is all this step does; the next
`manage` pass creates the new pod on a node once the old one is gone. Per node (sorted by
name, so the order is the same on every pass), with the pods not being deleted:
  - more than one new or more than one old pod, or none at all, or one of each -> the
    manage pass is still at work there: count the node unavailable;
  - one new pod -> unavailable unless it is available;
  - one old pod -> if it is not available anyway, replace it now (costs nothing); else it
    is a candidate, taken while the unavailable count leaves room.
Worked example: 5 nodes, maxUnavailable 2, all old and available: delete a and b. Next
pass: a and b have no pod (2 unavailable) -> nothing more until their new pods are
available, then c and d, then e.

`maxSurge` (new pod first, then the old one) is not implemented: a DaemonSet asking for
it (which validation allows only with maxUnavailable 0) is updated one node at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgekube.controllers.daemonsets.pods import deleting, is_available, is_updated
from edgekube.resources.kinds.workload_intstr import scaled_value
from edgekube.resources.objects import Obj, get_path


def max_unavailable(daemonset: Obj, desired: int) -> int:
    """maxUnavailable as a count of `desired` nodes, percentages rounded up.

    Worked example: 10 nodes, "25%" -> 3. Both maxUnavailable and maxSurge 0 (or a surge
    we do not do) -> 1, Kubernetes' fallback for an impossible setting.
    """
    rolling: Any = get_path(daemonset, "spec", "updateStrategy", "rollingUpdate")
    rolling = rolling if isinstance(rolling, dict) else {}
    count = scaled_value(rolling.get("maxUnavailable", 1), desired, round_up=True)
    if desired > 0 and count == 0:
        return 1
    return count


def _new_and_old(pods: list[Obj], revision_hash: str) -> tuple[Obj | None, Obj | None] | None:
    new: Obj | None = None
    old: Obj | None = None
    for pod in pods:
        if deleting(pod):
            continue
        if is_updated(pod, revision_hash):
            if new is not None:
                return None
            new = pod
        else:
            if old is not None:
                return None
            old = pod
    return new, old


def rolling_deletes(
    wanted_nodes: list[str],
    by_node: dict[str, list[Obj]],
    revision_hash: str,
    limit: int,
    min_ready_seconds: int,
    now: datetime,
) -> list[Obj]:
    """Old pods to delete this pass."""
    unavailable = 0
    replace_now: list[Obj] = []
    candidates: list[Obj] = []
    for name in sorted(set(wanted_nodes) | set(by_node)):
        found = _new_and_old(by_node.get(name, []), revision_hash)
        if found is None:
            unavailable += 1
            continue
        new, old = found
        if (new is None) == (old is None):
            unavailable += 1
        elif new is not None:
            if not is_available(new, min_ready_seconds, now):
                unavailable += 1
        elif old is not None:
            if not is_available(old, min_ready_seconds, now):
                replace_now.append(old)
            elif unavailable < limit:
                candidates.append(old)
    room = max(0, min(limit - unavailable, len(candidates)))
    return replace_now + candidates[:room]
