"""NodeResourcesFit: requests must fit what is left; LeastAllocated scores emptier nodes higher."""

from __future__ import annotations

import pytest

from edgekube.scheduler.plugins.node_resources_fit import NodeResourcesFit, least_requested
from edgekube.scheduler.statuses import Code
from tests.unit.scheduler.builders import cache_of, node, pod, run_filter, run_score


@pytest.mark.parametrize(
    ("allocatable", "used", "wanted", "reasons"),
    [
        pytest.param(("4", "8Gi", "110"), [], ("1", "1Gi"), (), id="fits"),
        pytest.param(("4", "8Gi", "110"), [("3", "1Gi")], ("1", "1Gi"), (), id="exactly-fits"),
        pytest.param(("4", "8Gi", "110"), [("3500m", "1Gi")], ("1", "1Gi"), ("Insufficient cpu",), id="cpu"),
        pytest.param(("4", "8Gi", "110"), [("1", "7Gi")], ("1", "2Gi"), ("Insufficient memory",), id="memory"),
        pytest.param(
            ("4", "8Gi", "110"), [("4", "8Gi")], ("1", "1Gi"), ("Insufficient cpu", "Insufficient memory"),
            id="both-named",
        ),
        pytest.param(("4", "8Gi", "1"), [("100m", "1Mi")], ("100m", "1Mi"), ("Too many pods",), id="pod-count"),
        pytest.param(("4", "8Gi", "1"), [(None, None)], (None, None), ("Too many pods",), id="best-effort-count"),
        pytest.param(
            ("4", "8Gi", "1"), [("4", "8Gi")], ("1", "1Gi"),
            ("Too many pods", "Insufficient cpu", "Insufficient memory"), id="all-three-in-order",
        ),
        pytest.param(("4", "8Gi", "110"), [("5", "9Gi")], (None, None), (), id="overcommitted-but-asks-nothing"),
        pytest.param(("4", "8Gi", "110"), [], ("4001m", None), ("Insufficient cpu",), id="millicores-round-up"),
        pytest.param(("4", "8Gi", "0"), [], (None, None), ("Too many pods",), id="no-pods-allowed"),
    ],
)
def test_filter(
    allocatable: tuple[str, str, str],
    used: list[tuple[str | None, str | None]],
    wanted: tuple[str | None, str | None],
    reasons: tuple[str, ...],
) -> None:
    """Every short resource is named, pods count first, as Kubernetes orders them."""
    cpu, memory, pods = allocatable
    existing = [pod(f"e{i}", cpu=c, memory=m, node_name="n1") for i, (c, m) in enumerate(used)]
    cache = cache_of([node("n1", cpu=cpu, memory=memory, pods=pods)], existing)
    status = run_filter(NodeResourcesFit(), pod("new", cpu=wanted[0], memory=wanted[1]), cache, "n1")
    if not reasons:
        assert status.ok, status
    else:
        assert (status.code, status.reasons) == (Code.UNSCHEDULABLE, reasons)


@pytest.mark.parametrize(
    ("node_extra", "wanted", "reasons"),
    [
        pytest.param({}, {"example.com/gpu": "1"}, ("Insufficient example.com/gpu",), id="extended-missing"),
        pytest.param({"example.com/gpu": "2"}, {"example.com/gpu": "1"}, (), id="extended-fits"),
        pytest.param({"ephemeral-storage": "1Gi"}, {"ephemeral-storage": "2Gi"}, ("Insufficient ephemeral-storage",),
                     id="ephemeral-storage"),
    ],
)
def test_filter_other_resources(node_extra: dict[str, str], wanted: dict[str, str], reasons: tuple[str, ...]) -> None:
    """Extended resources and ephemeral storage are checked like cpu and memory."""
    cache = cache_of([node("n1", extra=node_extra)])
    status = run_filter(NodeResourcesFit(), pod("new", extra_requests=wanted), cache, "n1")
    assert status.reasons == reasons


def test_assumed_pods_count() -> None:
    """A pod assumed on a node (bind not yet seen) takes its room like any other."""
    cache = cache_of([node("n1", cpu="2")])
    from edgekube.scheduler.podinfos import PodInfo

    cache.assume(PodInfo.of(pod("first", cpu="1500m")), "n1")
    assert run_filter(NodeResourcesFit(), pod("second", cpu="1"), cache, "n1").reasons == ("Insufficient cpu",)
    cache.forget("default/first")
    assert run_filter(NodeResourcesFit(), pod("second", cpu="1"), cache, "n1").ok


@pytest.mark.parametrize(
    ("requested", "allocatable", "score"),
    [
        pytest.param(0, 4000, 100, id="empty"),
        pytest.param(1000, 4000, 75, id="quarter"),
        pytest.param(4000, 4000, 0, id="full"),
        pytest.param(5000, 4000, 0, id="over"),
        pytest.param(1, 3, 66, id="rounds-down"),
        pytest.param(10, 0, 0, id="nothing-allocatable"),
    ],
)
def test_least_requested(requested: int, allocatable: int, score: int) -> None:
    """(allocatable - requested) * 100 / allocatable, integer, 0 when over."""
    assert least_requested(requested, allocatable) == score


def test_score_prefers_emptier_nodes() -> None:
    """With the pod added: cpu and memory shares left, averaged (best-effort pods count 100m/200Mi)."""
    cache = cache_of(
        [node("empty", cpu="4", memory="8Gi"), node("busy", cpu="4", memory="8Gi")],
        [pod("e", cpu="2", memory="4Gi", node_name="busy")],
    )
    # empty: cpu (4000-1000)/4000 = 75, memory (8-2)/8 = 75 -> 75; busy: cpu 25, memory 25 -> 25
    assert run_score(NodeResourcesFit(), pod("new", cpu="1", memory="2Gi"), cache) == {"empty": 75, "busy": 25}
    # best effort: 100m of 4000m -> 97; 200Mi of 8Gi -> 97
    assert run_score(NodeResourcesFit(), pod("be"), cache) == {"empty": 97, "busy": 47}
