"""SelectorSpread: spread the pods of one controller (ReplicaSet, StatefulSet...) over nodes and zones.

A stand-in for the default spreading Kubernetes does (PodTopologySpread's system default
constraints, formerly SelectorSpread): the pods counted are those with the same controller
ownerReference as the pod being scheduled, read from an index the cache keeps, so scoring
costs one dict lookup per node. Fewer such pods on a node (and in its zone) is better.

Normalization, as Kubernetes' SelectorSpread: node score = 100 * (max - count) / max over
the scored nodes; when nodes carry zone labels, the zone's score (same formula over zone
totals) weighs 2/3 and the node's 1/3. Worked example: counts [2, 1, 0] and no zones ->
[0, 50, 100].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from edgekube.scheduler.framework import MAX_NODE_SCORE, CycleState, Snapshot
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, SUCCESS, Status

NAME = "SelectorSpread"
ZONE_WEIGHTING = 2.0 / 3.0


class _Counts:
    """Node name -> pods of the same controller there (the cache's live index: read only)."""

    __slots__ = ("by_node",)

    def __init__(self, by_node: Mapping[str, int]) -> None:
        self.by_node = by_node


class SelectorSpread:
    name = NAME

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], snapshot: Snapshot) -> Status:
        counts = snapshot.owner_counts(pod.owner_uid) if pod.owner_uid else None
        if not counts:
            return SKIP  # no sibling anywhere yet: every node would score the same
        state.write(NAME, _Counts(counts))
        return SUCCESS

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, Status]:
        return state.read(NAME, _Counts).by_node.get(node.name, 0), SUCCESS

    def normalize_scores(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]) -> Status:
        spread(nodes, scores)
        return SUCCESS


def spread(nodes: Sequence[NodeInfo], scores: list[int]) -> None:
    """Turn per-node counts into scores in place (see the module docstring)."""
    top = max(scores, default=0)
    node_part = [MAX_NODE_SCORE * (top - c) / top for c in scores] if top > 0 else [float(MAX_NODE_SCORE)] * len(scores)
    zones = [node.zone for node in nodes]
    by_zone: dict[str, int] = {}
    for zone, count in zip(zones, scores, strict=True):
        if zone and count:
            by_zone[zone] = by_zone.get(zone, 0) + count
        elif zone:
            by_zone.setdefault(zone, 0)
    if not by_zone:
        scores[:] = [int(v) for v in node_part]
        return
    zone_top = max(by_zone.values())
    zone_part = {
        zone: MAX_NODE_SCORE * (zone_top - total) / zone_top if zone_top > 0 else float(MAX_NODE_SCORE)
        for zone, total in by_zone.items()
    }
    keep = 1.0 - ZONE_WEIGHTING
    scores[:] = [
        int(v * keep + ZONE_WEIGHTING * zone_part[zone]) if zone else int(v)
        for v, zone in zip(node_part, zones, strict=True)
    ]
