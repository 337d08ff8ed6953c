"""NodePorts: a host port (protocol, port, address) can be held by one pod per node.

An address of 0.0.0.0 (or none) holds the port on every address, so it clashes with any
other use of the same protocol and port; two specific addresses clash only when equal.
"""

from __future__ import annotations

from edgekube.scheduler.framework import CycleState, Snapshot
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, SUCCESS, Status, unschedulable

NAME = "NodePorts"
REASON = "node(s) didn't have free ports for the requested pod ports"

_REJECTED = unschedulable(REASON, plugin=NAME)


class NodePorts:
    name = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        return SUCCESS if pod.host_ports else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        for hp in pod.host_ports:
            if node.port_conflict(hp):
                return _REJECTED
        return SUCCESS
