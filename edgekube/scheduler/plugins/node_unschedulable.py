"""NodeUnschedulable: no new pods on a cordoned node (`spec.unschedulable`).

A pod that tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint may still go
there (DaemonSet pods do).
"""

from __future__ import annotations

from edgekube.scheduler.framework import CycleState
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SUCCESS, Status, unresolvable
from edgekube.scheduler.taints import NO_SCHEDULE, UNSCHEDULABLE, Taint, tolerated

NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"

_REJECTED = unresolvable(REASON, plugin=NAME)
_TAINT = Taint(UNSCHEDULABLE, "", NO_SCHEDULE)


class NodeUnschedulable:
    name = NAME

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if not node.unschedulable or tolerated(pod.tolerations, _TAINT):
            return SUCCESS
        return _REJECTED
