"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be equally used.

With the pod added, each resource's fraction is requested / allocatable (capped at 1);
the score is (1 - standard deviation of the fractions) * 100, and with two resources the
deviation is |cpu - memory| / 2. Worked example: cpu 50% and memory 10% -> deviation 0.2
-> score 80. Requests here are the real ones (no non-zero defaults), and a pod that asks
for neither cpu nor memory changes no node's balance, so it skips this score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from edgekube.scheduler.framework import MAX_NODE_SCORE, CycleState, Snapshot
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, SUCCESS, Status

NAME = "NodeResourcesBalancedAllocation"


def balance(fractions: Sequence[float]) -> int:
    if len(fractions) == 2:
        deviation = abs(fractions[0] - fractions[1]) / 2
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        deviation = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        deviation = 0.0
    return int((1 - deviation) * MAX_NODE_SCORE)


class BalancedAllocation:
    name = NAME

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], snapshot: Snapshot) -> Status:
        return SUCCESS if pod.requests.cpu or pod.requests.memory else SKIP

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, Status]:
        have, used, want = node.allocatable, node.requested, pod.requests
        if have.cpu > 0 and have.memory > 0:  # the usual case, without a list
            cpu = min((used.cpu + want.cpu) / have.cpu, 1.0)
            memory = min((used.memory + want.memory) / have.memory, 1.0)
            return int((1 - abs(cpu - memory) / 2) * MAX_NODE_SCORE), SUCCESS
        fractions = [min((u + w) / h, 1.0) for u, w, h in ((used.cpu, want.cpu, have.cpu),
                                                            (used.memory, want.memory, have.memory)) if h > 0]
        return balance(fractions), SUCCESS
