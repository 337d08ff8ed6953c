"""One decision: sampling as percentageOfNodesToScore, the best total wins, ties at random."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from edgekube.scheduler.algorithm import Algorithm, ScheduleResult, nodes_to_find
from edgekube.scheduler.diagnoses import FitError, SchedulingError
from edgekube.scheduler.framework import CycleState
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.profiles import DEFAULT_FILTERS, DEFAULT_SCORES, build_profile
from edgekube.scheduler.registry import REGISTRY, PluginFactory
from edgekube.scheduler.statuses import Status
from tests.unit.scheduler.builders import cache_of, node, pod


@pytest.mark.parametrize(
    ("num_nodes", "percentage", "wanted"),
    [
        pytest.param(50, 0, 50, id="small-cluster-all"),
        pytest.param(100, 0, 100, id="100-all"),
        pytest.param(150, 0, 100, id="never-under-100"),
        pytest.param(1000, 0, 420, id="1000-is-42-percent"),
        pytest.param(5000, 0, 500, id="5000-is-10-percent"),
        pytest.param(20000, 0, 1000, id="floor-5-percent"),
        pytest.param(1000, 10, 100, id="fixed-percentage"),
        pytest.param(1000, 100, 1000, id="all"),
    ],
)
def test_nodes_to_find(num_nodes: int, percentage: int, wanted: int) -> None:
    """kube-scheduler's numFeasibleNodesToFind: 50% - 1% per 125 nodes, >= 5%, >= 100 nodes."""
    assert nodes_to_find(num_nodes, percentage) == wanted


def many_nodes(count: int) -> list[dict[str, object]]:
    return [node(f"n{i:04d}") for i in range(count)]


def test_sampling_stops_early_and_rotates() -> None:
    """With 1,000 fitting nodes, 420 are checked, and the next search starts where this one stopped."""
    algorithm = Algorithm(build_profile(), cache_of(many_nodes(1000)), rng=random.Random(1))
    first = algorithm.schedule(PodInfo.of(pod("a")))
    assert isinstance(first, ScheduleResult) and (first.evaluated, first.feasible) == (420, 420)
    assert int(first.node[1:]) < 420
    second = algorithm.schedule(PodInfo.of(pod("b")))
    assert isinstance(second, ScheduleResult) and 420 <= int(second.node[1:]) < 840


def test_unschedulable_checks_every_node() -> None:
    """When nothing fits, every node is checked and has its reason."""
    cache = cache_of(many_nodes(300))
    result = Algorithm(build_profile(), cache).schedule(PodInfo.of(pod("huge", memory="1Ti")))
    assert isinstance(result, FitError)
    assert len(result.statuses) == 300
    assert result.message == "0/300 nodes are available: 300 Insufficient memory."


def test_highest_total_wins() -> None:
    """The node with the most room left wins on LeastAllocated and balance."""
    cache = cache_of([node("small", cpu="2", memory="4Gi"), node("big", cpu="16", memory="32Gi")])
    result = Algorithm(build_profile(), cache).schedule(PodInfo.of(pod("p", cpu="1", memory="2Gi")))
    assert isinstance(result, ScheduleResult) and result.node == "big"


def test_ties_are_broken_at_random() -> None:
    """Equal nodes all get chosen over repeated decisions (nothing is assumed in between)."""
    algorithm = Algorithm(build_profile(), cache_of(many_nodes(3)), rng=random.Random(3))
    picks: Counter[str] = Counter()
    for _ in range(60):
        result = algorithm.schedule(PodInfo.of(pod("p", cpu="10m")))
        assert isinstance(result, ScheduleResult)
        picks[result.node] += 1
    assert set(picks) == {"n0000", "n0001", "n0002"}


def test_one_feasible_node_skips_scoring() -> None:
    """A single fitting node is the answer without scoring."""
    cache = cache_of([node("a", memory="1Gi"), node("b", memory="8Gi")])
    result = Algorithm(build_profile(), cache).schedule(PodInfo.of(pod("p", memory="4Gi")))
    assert result == ScheduleResult("b", 2, 1)


class Broken:
    name = "Broken"

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        raise RuntimeError("bug")


def test_a_plugin_bug_fails_the_pod_not_the_scheduler() -> None:
    """An exception in a plugin becomes a SchedulingError naming it."""
    registry: dict[str, PluginFactory] = {**REGISTRY, "Broken": Broken}
    profile = build_profile("x", [*DEFAULT_FILTERS, "Broken"], DEFAULT_SCORES, registry)
    result = Algorithm(profile, cache_of(many_nodes(2))).schedule(PodInfo.of(pod("p")))
    assert isinstance(result, SchedulingError) and "RuntimeError('bug')" in result.message
