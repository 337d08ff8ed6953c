"""Profiles are built from the registry by plugin name, with Kubernetes' default order and weights."""

from __future__ import annotations

import pytest

from edgekube.scheduler.profiles import build_profile
from edgekube.scheduler.registry import REGISTRY, new_plugin


def test_default_profile() -> None:
    """Filters in kube-scheduler's order; score weights as its defaults."""
    profile = build_profile()
    assert profile.scheduler_name == "default-scheduler"
    assert [f.name for f in profile.filters] == [
        "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit",
        "InterPodAffinity",
    ]
    assert [p.name for p in profile.pre_filters] == ["NodeName", "NodeAffinity", "NodePorts", "InterPodAffinity"]
    assert {s.plugin.name: s.weight for s in profile.scores} == {
        "TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1,
        "SelectorSpread": 2, "InterPodAffinity": 2,
    }
    # One instance per plugin serves both its filter and its score.
    by_name: dict[str, object] = {f.name: f for f in profile.filters}
    assert all(s.plugin is by_name[s.plugin.name] for s in profile.scores if s.plugin.name in by_name)


def test_every_registered_plugin_has_its_name() -> None:
    """The registry key is the plugin's own name."""
    for name in REGISTRY:
        assert new_plugin(name).name == name


@pytest.mark.parametrize(
    ("filters", "scores", "problem"),
    [
        pytest.param(["Nope"], [], "no scheduler plugin named 'Nope'", id="unknown"),
        pytest.param(["NodeResourcesBalancedAllocation"], [], "has no filter", id="not-a-filter"),
        pytest.param([], [("NodePorts", 1)], "has no score", id="not-a-score"),
        pytest.param([], [("NodeAffinity", 0)], "must be positive", id="zero-weight"),
    ],
)
def test_bad_profiles(filters: list[str], scores: list[tuple[str, int]], problem: str) -> None:
    """A profile naming a missing plugin, or one in the wrong role, is refused."""
    with pytest.raises((KeyError, ValueError), match=problem):
        build_profile("x", filters, scores)
