"""A profile: which plugins run, in which order, and how much each score weighs.

The default profile mirrors kube-scheduler's defaults for the plugins we have: filters in
its order (cheap and decisive first; the first failing filter names the node's reason) and
its score weights (TaintToleration 3, NodeAffinity 2, InterPodAffinity 2, NodeResourcesFit
1, BalancedAllocation 1). SelectorSpread takes PodTopologySpread's default weight, 2, since
it does that plugin's default job here. A pod picks its profile by `spec.schedulerName`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edgekube.scheduler.framework import (
    FilterPlugin,
    NormalizeScorePlugin,
    Plugin,
    PreFilterPlugin,
    PreScorePlugin,
    ScorePlugin,
)
from edgekube.scheduler.plugins import (
    balanced_allocation,
    inter_pod_affinity,
    node_affinity,
    node_name,
    node_ports,
    node_resources_fit,
    node_unschedulable,
    selector_spread,
    taint_toleration,
)
from edgekube.scheduler.podinfos import DEFAULT_SCHEDULER
from edgekube.scheduler.registry import PluginFactory, new_plugin

DEFAULT_FILTERS = (
    node_unschedulable.NAME,
    node_name.NAME,
    taint_toleration.NAME,
    node_affinity.NAME,
    node_ports.NAME,
    node_resources_fit.NAME,
    inter_pod_affinity.NAME,
)
DEFAULT_SCORES = (
    (taint_toleration.NAME, 3),
    (node_affinity.NAME, 2),
    (node_resources_fit.NAME, 1),
    (balanced_allocation.NAME, 1),
    (selector_spread.NAME, 2),
    (inter_pod_affinity.NAME, 2),
)


@dataclass(frozen=True, slots=True)
class WeightedScore:
    plugin: ScorePlugin
    weight: int
    normalizer: NormalizeScorePlugin | None


@dataclass
class Profile:
    scheduler_name: str
    pre_filters: list[PreFilterPlugin] = field(default_factory=list)
    filters: list[FilterPlugin] = field(default_factory=list)
    pre_scores: list[PreScorePlugin] = field(default_factory=list)
    scores: list[WeightedScore] = field(default_factory=list)


def build_profile(
    scheduler_name: str = DEFAULT_SCHEDULER,
    filters: Sequence[str] = DEFAULT_FILTERS,
    scores: Sequence[tuple[str, int]] = DEFAULT_SCORES,
    registry: dict[str, PluginFactory] | None = None,
) -> Profile:
    """A profile from plugin names; one instance per plugin serves all its extension points."""
    instances: dict[str, Plugin] = {}

    def get(name: str) -> Plugin:
        if name not in instances:
            instances[name] = new_plugin(name, registry)
        return instances[name]

    profile = Profile(scheduler_name)
    for name in filters:
        plugin = get(name)
        if not isinstance(plugin, FilterPlugin):
            raise ValueError(f"plugin {name} has no filter")
        if isinstance(plugin, PreFilterPlugin):
            profile.pre_filters.append(plugin)
        profile.filters.append(plugin)
    for name, weight in scores:
        scorer = get(name)
        if not isinstance(scorer, ScorePlugin):
            raise ValueError(f"plugin {name} has no score")
        if weight <= 0:
            raise ValueError(f"score weight of {name} must be positive, not {weight}")
        if isinstance(scorer, PreScorePlugin):
            profile.pre_scores.append(scorer)
        normalizer = scorer if isinstance(scorer, NormalizeScorePlugin) else None
        profile.scores.append(WeightedScore(scorer, weight, normalizer))
    return profile
