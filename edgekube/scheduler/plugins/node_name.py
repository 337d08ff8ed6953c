"""NodeName: a pod that names its node (`spec.nodeName`) fits only that node."""

from __future__ import annotations

from edgekube.scheduler.framework import CycleState, Snapshot
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, SUCCESS, Status, unresolvable

NAME = "NodeName"
REASON = "node(s) didn't match the requested node name"

_REJECTED = unresolvable(REASON, plugin=NAME)


class NodeName:
    name = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        return SUCCESS if pod.node_name else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        return SUCCESS if not pod.node_name or pod.node_name == node.name else _REJECTED
