"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory shares stay close."""

from __future__ import annotations

import pytest

from edgekube.scheduler.plugins.balanced_allocation import BalancedAllocation, balance
from tests.unit.scheduler.builders import cache_of, node, pod, run_score


@pytest.mark.parametrize(
    ("fractions", "score"),
    [
        pytest.param([0.5, 0.5], 100, id="equal"),
        pytest.param([0.5, 0.1], 80, id="apart"),
        pytest.param([1.0, 0.0], 50, id="opposite"),
        pytest.param([0.3], 100, id="one-resource"),
        pytest.param([0.0, 0.5, 1.0], 59, id="three-resources-std"),
    ],
)
def test_balance(fractions: list[float], score: int) -> None:
    """(1 - standard deviation of the fractions) * 100."""
    assert balance(fractions) == score


def test_score() -> None:
    """The node where the pod evens out cpu and memory scores higher."""
    cache = cache_of(
        [node("cpu-heavy", cpu="4", memory="8Gi"), node("even", cpu="4", memory="8Gi")],
        [pod("e", cpu="2", memory="1Gi", node_name="cpu-heavy")],
    )
    # cpu-heavy: cpu (2+1)/4 = .75, memory (1+1)/8 = .25 -> 100 * (1 - .25) = 75
    # even:      cpu 1/4 = .25, memory 1/8 = .125 -> 100 * (1 - .0625) = 93
    assert run_score(BalancedAllocation(), pod("new", cpu="1", memory="1Gi"), cache) == {"cpu-heavy": 75, "even": 93}


def test_pod_asking_nothing_skips() -> None:
    """A best-effort pod changes no node's balance, so the score is skipped."""
    assert run_score(BalancedAllocation(), pod("be"), cache_of([node("a")])) is None
