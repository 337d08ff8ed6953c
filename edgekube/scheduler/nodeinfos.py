"""One node as the scheduler sees it: the node, the pods on it, and their running totals.

The totals (requested resources, non-zero requests for scoring, host ports in use, how
many pods carry pod-affinity terms) change by one pod at a time as pods are added and
removed, so a filter reads them in O(1) instead of summing the node's pods. Pods the
scheduler has chosen this node for but whose binding the informer has not confirmed yet
("assumed" pods) are added like any other: the next decision must already count them.

A NodeInfo may outlive its node (pods still listed on a deleted node) with `node=None`;
the cache leaves such entries out of the nodes it offers for scheduling.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edgekube.resources.objects import Obj
from edgekube.scheduler.amounts import PODS, Amounts, resource_map
from edgekube.scheduler.podinfos import HostPort, PodInfo
from edgekube.scheduler.taints import Taint, node_taints

ALL_ADDRESSES = "0.0.0.0"
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")


class NodeInfo:
    __slots__ = (
        "affinity_pods",
        "allocatable",
        "allowed_pods",
        "hard_taints",
        "labels",
        "name",
        "node",
        "nonzero_cpu",
        "nonzero_memory",
        "pods",
        "ports_any",
        "ports_ip",
        "requested",
        "soft_taints",
        "unschedulable",
        "zone",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.node: Obj | None = None
        self.labels: dict[str, str] = {}
        self.unschedulable = False
        self.hard_taints: tuple[Taint, ...] = ()  # NoSchedule + NoExecute (+ condition taints)
        self.soft_taints: tuple[Taint, ...] = ()  # PreferNoSchedule
        self.allocatable = Amounts()
        self.allowed_pods = 0
        self.zone = ""  # region + ":\x00:" + zone, "" when the node has neither label
        self.pods: dict[str, PodInfo] = {}
        self.requested = Amounts()
        self.nonzero_cpu = 0
        self.nonzero_memory = 0
        self.ports_any: dict[tuple[str, int], int] = {}  # (protocol, port) -> pods using it on any address
        self.ports_ip: dict[tuple[str, str, int], int] = {}  # (ip, protocol, port) -> pods
        self.affinity_pods = 0  # pods with any pod (anti-)affinity term

    @classmethod
    def of(cls, node: Obj, pods: Iterable[PodInfo] = ()) -> NodeInfo:
        """A NodeInfo built by hand (tests, benchmarks)."""
        info = cls(str((node.get("metadata") or {}).get("name") or ""))
        info.set_node(node)
        for pod in pods:
            info.add_pod(pod)
        return info

    def __repr__(self) -> str:
        return f"NodeInfo({self.name!r}, pods={len(self.pods)})"

    def set_node(self, node: Obj | None) -> None:
        """Take the node's current labels, taints and allocatable (ValueError on a bad quantity)."""
        self.node = node
        if node is None:
            return
        meta: dict[str, Any] = node.get("metadata") or {}
        spec: dict[str, Any] = node.get("spec") or {}
        allocatable = resource_map((node.get("status") or {}).get("allocatable"))
        self.labels = meta.get("labels") or {}
        self.unschedulable = spec.get("unschedulable") is True
        self.hard_taints, self.soft_taints = node_taints(node)
        self.allowed_pods = allocatable.get(PODS, 0)
        self.allocatable = Amounts.of(allocatable)
        self.zone = zone_key(self.labels)

    def add_pod(self, pod: PodInfo) -> None:
        self.pods[pod.key] = pod
        self._count(pod, 1)

    def remove_pod(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is not None:
            self._count(pod, -1)
        return pod

    def _count(self, pod: PodInfo, sign: int) -> None:
        self.requested.add(pod.requests, sign)
        self.nonzero_cpu += sign * pod.nonzero_cpu
        self.nonzero_memory += sign * pod.nonzero_memory
        for hp in pod.host_ports:
            _bump(self.ports_any, (hp.protocol, hp.port), sign)
            _bump(self.ports_ip, (hp.ip, hp.protocol, hp.port), sign)
        if pod.has_pod_affinity:
            self.affinity_pods += sign

    def port_conflict(self, hp: HostPort) -> bool:
        """Whether a pod on this node holds `hp`: 0.0.0.0 clashes with every address of the port."""
        if hp.ip == ALL_ADDRESSES:
            return (hp.protocol, hp.port) in self.ports_any
        return (ALL_ADDRESSES, hp.protocol, hp.port) in self.ports_ip or (hp.ip, hp.protocol, hp.port) in self.ports_ip


def _bump(counts: dict[Any, int], key: Any, sign: int) -> None:
    left = counts.get(key, 0) + sign
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


def zone_key(labels: dict[str, str]) -> str:
    """Kubernetes' zone identity: region and zone together, "" when neither is set."""
    zone = next((labels[k] for k in ZONE_LABELS if labels.get(k)), "")
    region = next((labels[k] for k in REGION_LABELS if labels.get(k)), "")
    if not zone and not region:
        return ""
    return f"{region}:\x00:{zone}"
