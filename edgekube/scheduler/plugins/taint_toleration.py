"""TaintToleration: keep pods off nodes whose taints they do not tolerate.

Filter: a NoSchedule or NoExecute taint the pod does not tolerate rejects the node, with
the first such taint in the reason (condition taints such as `node.kubernetes.io/not-ready`
included, see `taints.py`). Score: the fewer PreferNoSchedule taints the pod does not
tolerate, the better; only tolerations with effect PreferNoSchedule (or none) count.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from edgekube.scheduler.framework import CycleState, Snapshot, default_normalize
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SUCCESS, Status, unresolvable
from edgekube.scheduler.taints import PREFER_NO_SCHEDULE, Taint, Toleration, first_untolerated, tolerated

NAME = "TaintToleration"
REASON = "node(s) had untolerated taint {{{key}: {value}}}"

_ZERO = (0, SUCCESS)


@lru_cache(maxsize=1024)
def untolerated(taint: Taint) -> Status:
    """The rejection for `taint`, built once per distinct taint."""
    return unresolvable(REASON.format(key=taint.key, value=taint.value), plugin=NAME)


class _PreferTolerations(tuple[Toleration, ...]):
    """The pod's tolerations that can tolerate a PreferNoSchedule taint."""


class TaintToleration:
    name = NAME

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if not node.hard_taints:
            return SUCCESS
        taint = first_untolerated(node.hard_taints, pod.tolerations)
        return SUCCESS if taint is None else untolerated(taint)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], snapshot: Snapshot) -> Status:
        prefer = (t for t in pod.tolerations if t.effect in ("", PREFER_NO_SCHEDULE))
        state.write(NAME, _PreferTolerations(prefer))
        return SUCCESS

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, Status]:
        if not node.soft_taints:
            return _ZERO
        tolerations = state.read(NAME, _PreferTolerations)
        return sum(1 for t in node.soft_taints if not tolerated(tolerations, t)), SUCCESS

    def normalize_scores(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]) -> Status:
        default_normalize(scores, reverse=True)
        return SUCCESS
