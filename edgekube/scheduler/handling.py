"""Informer events -> the scheduler's cache and queue. No I/O, no waiting.

As in any controller, the handlers only record and enqueue; unlike most, the scheduler
keeps its own derived cache (per-node totals and indexes), and that must follow every
event, so the handlers update it in place (cheap, in memory) before queueing.

Pods: a pending pod of ours is queued; a pod on a node is counted there (its bind landing
here confirms the scheduler's assumption); a finished pod (Succeeded/Failed) no longer
counts, as if deleted. Cluster changes wake parked pods, but only those rejected by a
plugin that the change could satisfy:
  node added or changed (labels, taints, allocatable, conditions) -> every plugin;
  pod on a node deleted or finished -> NodeResourcesFit, NodePorts, InterPodAffinity;
  pod placed on a node -> InterPodAffinity (it may be the pod another one wants to join);
  labels or requests of a pod on a node changed -> InterPodAffinity, NodeResourcesFit;
  namespace labels changed -> InterPodAffinity.
"""

from __future__ import annotations

import structlog

from edgekube.controllers.informing import object_key
from edgekube.resources.objects import Obj
from edgekube.scheduler.caching import SchedulerCache
from edgekube.scheduler.plugins import inter_pod_affinity, node_ports, node_resources_fit
from edgekube.scheduler.podinfos import TERMINAL_PHASES, PodInfo, is_pending_for
from edgekube.scheduler.queueing import SchedulingQueue

log = structlog.get_logger(__name__)

POD_FREED = frozenset({node_resources_fit.NAME, node_ports.NAME, inter_pod_affinity.NAME})
POD_PLACED = frozenset({inter_pod_affinity.NAME})
POD_CHANGED = frozenset({inter_pod_affinity.NAME, node_resources_fit.NAME})
NAMESPACE_CHANGED = frozenset({inter_pod_affinity.NAME})


def _node_name(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def _terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def _priority(pod: Obj) -> int:
    value = (pod.get("spec") or {}).get("priority")
    return value if isinstance(value, int) else 0


def scheduling_view(pod: Obj) -> tuple[object, object, object]:
    """What of a pending pod can change whether it fits: not its status (our own writes)."""
    meta = pod.get("metadata") or {}
    return pod.get("spec"), meta.get("labels"), meta.get("annotations")


def node_view(node: Obj) -> tuple[object, ...]:
    """What of a node matters to filters: heartbeat timestamps and images do not."""
    meta, spec, status = node.get("metadata") or {}, node.get("spec") or {}, node.get("status") or {}
    conditions = sorted(
        (str(c.get("type")), str(c.get("status"))) for c in status.get("conditions") or () if isinstance(c, dict)
    )
    return meta.get("labels"), spec.get("taints"), spec.get("unschedulable"), status.get("allocatable"), conditions


class ClusterEvents:
    """Informer handlers for pods, nodes and namespaces."""

    def __init__(self, cache: SchedulerCache, queue: SchedulingQueue, scheduler_name: str) -> None:
        self.cache = cache
        self.queue = queue
        self.scheduler_name = scheduler_name

    # -- pods ----------------------------------------------------------------------------

    def pod_added(self, pod: Obj) -> None:
        key = object_key(pod)
        if _node_name(pod):
            if not _terminal(pod) and self._count(pod):
                self.queue.move(POD_PLACED)
        elif is_pending_for(pod, self.scheduler_name):
            self.queue.add(key, _priority(pod))

    def pod_updated(self, old: Obj, new: Obj) -> None:
        key = object_key(new)
        if _node_name(new):
            self.queue.delete(key)
            if _terminal(new):
                if self.cache.remove_pod(key) is not None:
                    self.queue.move(POD_FREED)
                return
            if not _node_name(old):  # the bind landed
                if self._count(new):
                    self.queue.move(POD_PLACED)
            elif self.cache.node_of(key) != _node_name(new) or self.cache.is_assumed(key):
                self._count(new)  # not counted yet (or only assumed): count it now
            elif _placed_view(old) != _placed_view(new):
                if self._count(new):
                    self.queue.move(POD_CHANGED)
            # else: a status write of a running pod; nothing the scheduler reads changed
        elif is_pending_for(new, self.scheduler_name):
            if scheduling_view(old) != scheduling_view(new):
                self.queue.update(key, _priority(new))
            elif key not in self.queue and not self.cache.is_assumed(key):
                self.queue.update(key, _priority(new))  # a pod we lost track of (never parked nor bound)
        else:
            self.queue.delete(key)  # being deleted, finished, or someone else's

    def pod_deleted(self, pod: Obj) -> None:
        key = object_key(pod)
        self.queue.delete(key)
        if self.cache.remove_pod(key) is not None:
            self.queue.move(POD_FREED)

    def _count(self, pod: Obj) -> bool:
        try:
            info = PodInfo.of(pod)
        except ValueError as err:
            log.warning("cannot read a pod on a node; not counting it", pod=object_key(pod), error=str(err))
            return False
        self.cache.add_pod(info)
        return True

    # -- nodes ---------------------------------------------------------------------------

    def node_added(self, node: Obj) -> None:
        self.cache.set_node(node)
        self.queue.move()

    def node_updated(self, old: Obj, new: Obj) -> None:
        self.cache.set_node(new)
        if node_view(old) != node_view(new):
            self.queue.move()

    def node_deleted(self, node: Obj) -> None:
        self.cache.remove_node(str((node.get("metadata") or {}).get("name") or ""))

    # -- namespaces ------------------------------------------------------------------------

    def namespace_added(self, namespace: Obj) -> None:
        meta = namespace.get("metadata") or {}
        self.cache.set_namespace(str(meta.get("name")), meta.get("labels") or {})

    def namespace_updated(self, old: Obj, new: Obj) -> None:
        self.namespace_added(new)
        if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
            self.queue.move(NAMESPACE_CHANGED)

    def namespace_deleted(self, namespace: Obj) -> None:
        self.cache.remove_namespace(str((namespace.get("metadata") or {}).get("name")))


def _placed_view(pod: Obj) -> tuple[object, object]:
    """What of a pod on a node matters to pending pods: its labels and its containers' requests."""
    spec = pod.get("spec") or {}
    return (pod.get("metadata") or {}).get("labels"), spec.get("containers")
