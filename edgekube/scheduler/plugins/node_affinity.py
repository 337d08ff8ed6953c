"""NodeAffinity: `nodeSelector` and required node affinity filter, preferred affinity scores.

Filter: every `nodeSelector` label must be on the node with the same value, and the required
node affinity (if any) must match. Score: the sum of the weights of the preferred terms the
node matches, scaled so the best node gets 100.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgekube.scheduler.framework import CycleState, Snapshot, default_normalize
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, SUCCESS, Status, unresolvable

NAME = "NodeAffinity"
REASON = "node(s) didn't match Pod's node affinity/selector"

_REJECTED = unresolvable(REASON, plugin=NAME)


def matches(pod: PodInfo, node: NodeInfo) -> bool:
    labels = node.labels
    for key, value in pod.node_selector.items():
        if labels.get(key) != value:
            return False
    required = pod.required_node_affinity
    return required is None or required.matches(labels, node.name)


class NodeAffinity:
    name = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        return SUCCESS if pod.node_selector or pod.required_node_affinity is not None else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        return SUCCESS if matches(pod, node) else _REJECTED

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], snapshot: Snapshot) -> Status:
        return SUCCESS if pod.preferred_node_affinity else SKIP

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, Status]:
        total = sum(p.weight for p in pod.preferred_node_affinity if p.term.matches(node.labels, node.name))
        return total, SUCCESS

    def normalize_scores(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]) -> Status:
        default_normalize(scores)
        return SUCCESS
