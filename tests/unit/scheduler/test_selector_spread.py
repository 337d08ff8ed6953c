"""SelectorSpread: fewer pods of the same controller on a node (and in its zone) score higher."""

from __future__ import annotations

import pytest

from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.plugins.selector_spread import SelectorSpread, spread
from tests.unit.scheduler.builders import cache_of, node, pod, run_score

ZONE = "topology.kubernetes.io/zone"


def nodes_in(*zones: str) -> list[NodeInfo]:
    return [NodeInfo.of(node(f"n{i}", labels={ZONE: z} if z else {})) for i, z in enumerate(zones)]


@pytest.mark.parametrize(
    ("zones", "counts", "expected"),
    [
        pytest.param(("", "", ""), [2, 1, 0], [0, 50, 100], id="no-zones"),
        pytest.param(("", "", ""), [0, 0, 0], [100, 100, 100], id="none-anywhere"),
        # zone a holds 3, zone b 0: node part 100*(2-c)/2, zone part a 0, b 100 -> 1/3 node + 2/3 zone
        pytest.param(("a", "a", "b"), [2, 1, 0], [0, 16, 100], id="zones-weigh-two-thirds"),
        pytest.param(("a", "b", ""), [1, 0, 0], [0, 100, 100], id="node-without-zone-uses-node-part"),
    ],
)
def test_spread(zones: tuple[str, ...], counts: list[int], expected: list[int]) -> None:
    """Kubernetes' SelectorSpread normalization, with and without zone labels."""
    scores = list(counts)
    spread(nodes_in(*zones), scores)
    assert scores == expected


def test_score_counts_pods_of_the_same_controller() -> None:
    """Only pods with the same controller uid count; others do not."""
    cache = cache_of(
        [node("a"), node("b"), node("c")],
        [
            pod("w1", owner="rs-1", node_name="a"),
            pod("w2", owner="rs-1", node_name="a"),
            pod("w3", owner="rs-1", node_name="b"),
            pod("x1", owner="rs-2", node_name="c"),
            pod("x2", owner="rs-2", node_name="c"),
        ],
    )
    assert run_score(SelectorSpread(), pod("new", owner="rs-1"), cache) == {"a": 0, "b": 50, "c": 100}


@pytest.mark.parametrize("owner", [pytest.param("", id="no-controller"), pytest.param("rs-9", id="no-siblings")])
def test_skips_when_nothing_to_spread(owner: str) -> None:
    """A pod without a controller, or the first of its group, skips (every node would tie)."""
    cache = cache_of([node("a")], [pod("w1", owner="rs-1", node_name="a")])
    assert run_score(SelectorSpread(), pod("new", owner=owner), cache) is None
