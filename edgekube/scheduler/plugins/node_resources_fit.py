"""NodeResourcesFit: the pod's requests must fit in what the node has left; emptier is better.

Filter: the node must have room for one more pod (`allocatable.pods`), and for every
resource the pod requests, allocatable minus what the node's pods already request must
cover the request. Every short resource is named ("Insufficient cpu", "Insufficient
memory"), so one node can add several reasons to the FailedScheduling message.

Score (LeastAllocated): for cpu and memory, with the pod added, (allocatable - requested)
* 100 / allocatable, averaged. Requests here are the non-zero ones (100m / 200Mi for a
container that asks nothing). Worked example: 4000m allocatable, 1000m requested, pod
asks 1000m -> cpu 50; 8Gi, 2Gi, 2Gi -> memory 50; score (50 + 50) / 2 = 50.
"""

from __future__ import annotations

from edgekube.scheduler.framework import MAX_NODE_SCORE, CycleState
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SUCCESS, Status, unschedulable

NAME = "NodeResourcesFit"
TOO_MANY_PODS = "Too many pods"
INSUFFICIENT = "Insufficient {}"

_TOO_MANY = unschedulable(TOO_MANY_PODS, plugin=NAME)


def insufficient(pod: PodInfo, node: NodeInfo) -> list[str]:
    """The reasons `pod` does not fit on `node`, in Kubernetes' order; [] when it fits."""
    reasons: list[str] = []
    if len(node.pods) + 1 > node.allowed_pods:
        reasons.append(TOO_MANY_PODS)
    want, have, used = pod.requests, node.allocatable, node.requested
    if want.cpu > 0 and want.cpu > have.cpu - used.cpu:
        reasons.append(INSUFFICIENT.format("cpu"))
    if want.memory > 0 and want.memory > have.memory - used.memory:
        reasons.append(INSUFFICIENT.format("memory"))
    if want.ephemeral > 0 and want.ephemeral > have.ephemeral - used.ephemeral:
        reasons.append(INSUFFICIENT.format("ephemeral-storage"))
    for name, amount in want.scalars.items():
        if amount > 0 and amount > have.scalars.get(name, 0) - used.scalars.get(name, 0):
            reasons.append(INSUFFICIENT.format(name))
    return reasons


def least_requested(requested: int, allocatable: int) -> int:
    if allocatable <= 0 or requested > allocatable:
        return 0
    return (allocatable - requested) * MAX_NODE_SCORE // allocatable


class NodeResourcesFit:
    name = NAME

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        # The common case first, without building a list: room for the pod's cpu and memory.
        want, have, used = pod.requests, node.allocatable, node.requested
        if (
            len(node.pods) < node.allowed_pods
            and want.cpu <= have.cpu - used.cpu
            and want.memory <= have.memory - used.memory
            and want.ephemeral <= have.ephemeral - used.ephemeral
            and not want.scalars
        ):
            return SUCCESS
        if not (want.cpu or want.memory or want.ephemeral or want.scalars):
            return _TOO_MANY if len(node.pods) + 1 > node.allowed_pods else SUCCESS
        reasons = insufficient(pod, node)
        return unschedulable(*reasons, plugin=NAME) if reasons else SUCCESS

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, Status]:
        have = node.allocatable
        total = weights = 0
        if have.cpu > 0:
            total += least_requested(node.nonzero_cpu + pod.nonzero_cpu, have.cpu)
            weights += 1
        if have.memory > 0:
            total += least_requested(node.nonzero_memory + pod.nonzero_memory, have.memory)
            weights += 1
        return (total // weights if weights else 0), SUCCESS
