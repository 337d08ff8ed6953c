"""One scheduling decision: which node for this pod, or why none.

  pre-filter -> filter nodes until enough fit -> pre-score -> score -> normalize -> weigh
  -> the highest total (ties at random).

Sampling, as kube-scheduler's `percentageOfNodesToScore`: with more than 100 nodes, the
search stops once "enough" feasible nodes are found: 50% of the cluster minus 1% per 125
nodes, never under 5% nor under 100 nodes. Worked example: 1,000 nodes -> 50 - 8 = 42% ->
stop at 420 feasible nodes; 5,000 -> 10% -> 500; 150 -> 49% -> 73, raised to 100. Each
search starts where the previous one stopped, so every node gets its turn.

Everything here is synchronous and does no I/O: the caller assumes the pod on the chosen
node before anything else can run, so no decision works from a stale picture.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from edgekube.scheduler.diagnoses import FitError, SchedulingError
from edgekube.scheduler.framework import MAX_NODE_SCORE, MIN_NODE_SCORE, CycleState, FilterPlugin, Snapshot
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.profiles import Profile
from edgekube.scheduler.statuses import SUCCESS, Code, Status, error

MIN_FEASIBLE_NODES = 100
MIN_FEASIBLE_PERCENTAGE = 5
ADAPTIVE_BASE_PERCENTAGE = 50
NODES_PER_PERCENT = 125


def nodes_to_find(num_nodes: int, percentage: int = 0) -> int:
    """How many feasible nodes are enough (see the module docstring); `percentage` 0: adaptive."""
    if num_nodes < MIN_FEASIBLE_NODES:
        return num_nodes
    if percentage <= 0:
        percentage = max(ADAPTIVE_BASE_PERCENTAGE - num_nodes // NODES_PER_PERCENT, MIN_FEASIBLE_PERCENTAGE)
    percentage = min(percentage, 100)
    return max(num_nodes * percentage // 100, MIN_FEASIBLE_NODES)


@dataclass
class ScheduleResult:
    node: str
    evaluated: int  # nodes filtered
    feasible: int  # nodes that fit (and were scored)


Outcome = ScheduleResult | FitError | SchedulingError


class Algorithm:
    def __init__(
        self, profile: Profile, snapshot: Snapshot, *, percentage: int = 0, rng: random.Random | None = None
    ) -> None:
        self.profile = profile
        self.snapshot = snapshot
        self.percentage = percentage
        self.rng = rng or random.Random()
        self._next_start = 0

    def schedule(self, pod: PodInfo) -> Outcome:
        nodes = self.snapshot.nodes()
        if not nodes:
            return FitError(0)
        state = CycleState()
        skipped: set[str] = set()
        for plugin in self.profile.pre_filters:
            try:
                status = plugin.pre_filter(state, pod, self.snapshot)
            except Exception as err:  # a plugin bug fails this pod, not the scheduler
                status = error(repr(err), plugin.name)
            if status.code is Code.SKIP:
                skipped.add(plugin.name)
            elif status.code is Code.ERROR:
                return SchedulingError(f"running PreFilter plugin {plugin.name}: {status.message}", plugin.name)
            elif not status.ok:
                return FitError(len(nodes), pre_filter=status.by(plugin.name))
        filters = [f for f in self.profile.filters if f.name not in skipped]
        found = self._find_feasible(state, pod, filters, nodes)
        if isinstance(found, SchedulingError):
            return found
        feasible, rejected = found
        if not feasible:
            return FitError(len(nodes), rejected)
        evaluated = len(feasible) + len(rejected)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, evaluated, 1)
        totals = self._score(state, pod, feasible)
        if isinstance(totals, SchedulingError):
            return totals
        return ScheduleResult(self._select(feasible, totals), evaluated, len(feasible))

    def _find_feasible(
        self, state: CycleState, pod: PodInfo, filters: list[FilterPlugin], nodes: Sequence[NodeInfo]
    ) -> tuple[list[NodeInfo], dict[str, Status]] | SchedulingError:
        count = len(nodes)
        wanted = nodes_to_find(count, self.percentage)
        start = self._next_start % count
        order = list(nodes[start:]) + list(nodes[:start]) if start else nodes
        checks = [f.filter for f in filters]
        feasible: list[NodeInfo] = []
        rejected: dict[str, Status] = {}
        processed = 0
        try:
            for node in order:
                processed += 1
                for check in checks:
                    status = check(state, pod, node)
                    if status is not SUCCESS and status.code is not Code.SUCCESS:
                        if status.code is Code.ERROR:
                            return SchedulingError(f"running Filter plugin: {status.message}", status.plugin)
                        rejected[node.name] = status
                        break
                else:
                    feasible.append(node)
                    if len(feasible) >= wanted:
                        break
        except Exception as err:  # a plugin bug fails this pod, not the scheduler
            return SchedulingError(f"running Filter plugins: {err!r}")
        self._next_start = (start + processed) % count
        return feasible, rejected

    def _score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int] | SchedulingError:
        skipped: set[str] = set()
        for plugin in self.profile.pre_scores:
            try:
                status = plugin.pre_score(state, pod, nodes, self.snapshot)
            except Exception as err:  # a plugin bug fails this pod, not the scheduler
                status = error(repr(err), plugin.name)
            if status.code is Code.SKIP:
                skipped.add(plugin.name)
            elif not status.ok:
                return SchedulingError(f"running PreScore plugin {plugin.name}: {status.message}", plugin.name)
        totals = [0] * len(nodes)
        for entry in self.profile.scores:
            name = entry.plugin.name
            if name in skipped:
                continue
            try:
                score = entry.plugin.score
                results = [score(state, pod, node) for node in nodes]
                scores = [value for value, _ in results]
                failed = next((status for _, status in results if status is not SUCCESS and not status.ok), None)
                if failed is not None:
                    return SchedulingError(f"running Score plugin {name}: {failed.message}", name)
                if entry.normalizer is not None:
                    status = entry.normalizer.normalize_scores(state, pod, nodes, scores)
                    if not status.ok:
                        return SchedulingError(f"running NormalizeScore plugin {name}: {status.message}", name)
            except Exception as err:  # a plugin bug fails this pod, not the scheduler
                return SchedulingError(f"running Score plugin {name}: {err!r}", name)
            if min(scores) < MIN_NODE_SCORE or max(scores) > MAX_NODE_SCORE:
                return SchedulingError(f"plugin {name} returned a score outside 0..{MAX_NODE_SCORE}", name)
            weight = entry.weight
            totals = [t + s * weight for t, s in zip(totals, scores, strict=True)]
        return totals

    def _select(self, nodes: list[NodeInfo], totals: list[int]) -> str:
        best = max(totals)
        winners = [i for i, t in enumerate(totals) if t == best]
        return nodes[winners[0] if len(winners) == 1 else self.rng.choice(winners)].name

