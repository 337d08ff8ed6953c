"""Which nodes need a daemon pod and which daemon pods must go (Kubernetes' `manage`).

Per node, with `placing.should_run`'s (shouldRun, shouldContinueRunning) and the node's
daemon pods (those being deleted included, terminal ones being deleted not):
  - shouldRun and no pod at all -> create one. A pod still terminating counts as a pod:
    the new one waits until the old is gone, so a daemon holding a host port never
    overlaps itself;
  - shouldContinueRunning -> failed pods are deleted (subject to a backoff the caller
    applies), succeeded ones too; of several running pods the first in creation order
    stays and the rest go;
  - otherwise -> every pod on the node goes (its labels or taints no longer admit it).
Pods pinned to a node that no longer exists and never bound are deleted here; bound
ones are the pod garbage collector's (they need a force delete).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgekube.controllers.daemonsets.pods import creation_order, deleting
from edgekube.resources.objects import Obj, get_path

Placement = dict[str, tuple[bool, bool]]


@dataclass
class NodePlan:
    create: list[str] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)
    failed: list[tuple[str, Obj]] = field(default_factory=list)  # (node, pod): delete after backoff


def plan_nodes(node_names: list[str], by_node: dict[str, list[Obj]], placement: Placement) -> NodePlan:
    plan = NodePlan()
    for name in sorted(node_names):
        run, keep = placement[name]
        pods = by_node.get(name, [])
        if run and not pods:
            plan.create.append(name)
        elif keep:
            running: list[Obj] = []
            for pod in pods:
                if deleting(pod):
                    continue
                phase = get_path(pod, "status", "phase")
                if phase == "Failed":
                    plan.failed.append((name, pod))
                elif phase == "Succeeded":
                    plan.delete.append(pod)
                else:
                    running.append(pod)
            plan.delete += sorted(running, key=creation_order)[1:]
        else:
            plan.delete += [p for p in pods if not deleting(p)]
    known = set(node_names)
    for name in sorted(set(by_node) - known):
        plan.delete += [p for p in by_node[name] if not get_path(p, "spec", "nodeName") and not deleting(p)]
    return plan
