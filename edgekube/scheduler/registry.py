"""Every plugin the scheduler knows, by its Kubernetes name; profiles pick from here."""

from __future__ import annotations

from collections.abc import Callable

from edgekube.scheduler.framework import Plugin
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

PluginFactory = Callable[[], Plugin]

REGISTRY: dict[str, PluginFactory] = {
    node_unschedulable.NAME: node_unschedulable.NodeUnschedulable,
    node_name.NAME: node_name.NodeName,
    taint_toleration.NAME: taint_toleration.TaintToleration,
    node_affinity.NAME: node_affinity.NodeAffinity,
    node_ports.NAME: node_ports.NodePorts,
    node_resources_fit.NAME: node_resources_fit.NodeResourcesFit,
    balanced_allocation.NAME: balanced_allocation.BalancedAllocation,
    inter_pod_affinity.NAME: inter_pod_affinity.InterPodAffinity,
    selector_spread.NAME: selector_spread.SelectorSpread,
}


def new_plugin(name: str, registry: dict[str, PluginFactory] | None = None) -> Plugin:
    """An instance of the plugin called `name`; KeyError names the unknown plugin."""
    found = (registry if registry is not None else REGISTRY).get(name)
    if found is None:
        raise KeyError(f"no scheduler plugin named {name!r}")
    return found()
