"""A pod as the scheduler needs it: parsed once, read many times per decision.

Parsing happens when a pending pod is popped for a scheduling attempt, or when an assigned
pod enters the cache; filters and scores then read plain attributes (ints, tuples, dicts)
instead of walking the pod's JSON for every node. The original object stays in `obj`
(shared with the informer: never mutate it).

`PodInfo.of` raises ValueError for a pod the scheduler cannot understand (a quantity or
selector that does not parse): the scheduler reports it on the pod instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgekube.resources.objects import Obj
from edgekube.scheduler.amounts import Amounts, pod_requests
from edgekube.scheduler.taints import Toleration, tolerations_of
from edgekube.scheduler.terms import (
    AffinityTerm,
    NodeSelector,
    PreferredNodeTerm,
    WeightedAffinityTerm,
    affinity_term,
    preferred_node_terms,
    weighted_terms,
)

DEFAULT_SCHEDULER = "default-scheduler"
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True, slots=True)
class HostPort:
    ip: str  # "0.0.0.0" when unset: every address
    protocol: str
    port: int


@dataclass(slots=True, eq=False)
class PodInfo:
    obj: Obj
    key: str  # namespace/name
    namespace: str
    name: str
    uid: str
    labels: Mapping[str, str]
    node_name: str
    scheduler_name: str
    priority: int
    requests: Amounts
    nonzero_cpu: int
    nonzero_memory: int
    tolerations: tuple[Toleration, ...]
    host_ports: tuple[HostPort, ...]
    node_selector: Mapping[str, str]
    required_node_affinity: NodeSelector | None
    preferred_node_affinity: tuple[PreferredNodeTerm, ...]
    required_affinity: tuple[AffinityTerm, ...]
    required_anti_affinity: tuple[AffinityTerm, ...]
    preferred_affinity: tuple[WeightedAffinityTerm, ...]
    preferred_anti_affinity: tuple[WeightedAffinityTerm, ...]
    owner_uid: str  # the controller ownerReference's uid, "" without one
    terminal: bool

    @property
    def has_pod_affinity(self) -> bool:
        """Any pod (anti-)affinity term, required or preferred: other pods' scores may depend on it."""
        return bool(
            self.required_affinity or self.required_anti_affinity or self.preferred_affinity
            or self.preferred_anti_affinity
        )

    @classmethod
    def of(cls, pod: Obj) -> PodInfo:
        try:
            return cls._parse(pod)
        except (AttributeError, TypeError, KeyError) as err:  # a field of the wrong shape
            raise ValueError(f"pod spec cannot be read: {err}") from err

    @classmethod
    def _parse(cls, pod: Obj) -> PodInfo:
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        namespace = str(meta.get("namespace") or "")
        name = str(meta.get("name") or "")
        labels = meta.get("labels") or {}
        affinity = spec.get("affinity") or {}
        node_affinity = affinity.get("nodeAffinity") or {}
        pod_affinity = affinity.get("podAffinity") or {}
        anti_affinity = affinity.get("podAntiAffinity") or {}
        required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        requests = pod_requests(spec)
        phase = (pod.get("status") or {}).get("phase")
        return cls(
            obj=pod,
            key=f"{namespace}/{name}",
            namespace=namespace,
            name=name,
            uid=str(meta.get("uid") or ""),
            labels=labels,
            node_name=str(spec.get("nodeName") or ""),
            scheduler_name=str(spec.get("schedulerName") or DEFAULT_SCHEDULER),
            priority=int(spec.get("priority") or 0),
            requests=requests.actual,
            nonzero_cpu=requests.nonzero_cpu,
            nonzero_memory=requests.nonzero_memory,
            tolerations=tolerations_of(spec),
            host_ports=host_ports(spec),
            node_selector=spec.get("nodeSelector") or {},
            required_node_affinity=NodeSelector.parse(required) if required is not None else None,
            preferred_node_affinity=preferred_node_terms(
                node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution")
            ),
            required_affinity=_terms(pod_affinity, namespace, labels),
            required_anti_affinity=_terms(anti_affinity, namespace, labels),
            preferred_affinity=weighted_terms(
                pod_affinity.get("preferredDuringSchedulingIgnoredDuringExecution"), namespace, labels
            ),
            preferred_anti_affinity=weighted_terms(
                anti_affinity.get("preferredDuringSchedulingIgnoredDuringExecution"), namespace, labels
            ),
            owner_uid=controller_uid(meta),
            terminal=phase in TERMINAL_PHASES,
        )


def _terms(section: Mapping[str, Any], namespace: str, labels: Mapping[str, str]) -> tuple[AffinityTerm, ...]:
    raw = section.get("requiredDuringSchedulingIgnoredDuringExecution")
    return tuple(affinity_term(t, namespace, labels) for t in raw or ())


def controller_uid(meta: Mapping[str, Any]) -> str:
    for ref in meta.get("ownerReferences") or ():
        if isinstance(ref, dict) and ref.get("controller") is True and ref.get("uid"):
            return str(ref["uid"])
    return ""


def host_ports(spec: Mapping[str, Any]) -> tuple[HostPort, ...]:
    """The host ports the pod's containers (and sidecar init containers) ask for."""
    found: list[HostPort] = []
    containers = list(spec.get("containers") or ())
    init = spec.get("initContainers") or ()
    containers += [c for c in init if isinstance(c, dict) and c.get("restartPolicy") == "Always"]
    for container in containers:
        if not isinstance(container, dict):
            continue
        for port in container.get("ports") or ():
            number = port.get("hostPort") if isinstance(port, dict) else None
            if isinstance(number, int) and not isinstance(number, bool) and number > 0:
                found.append(HostPort(str(port.get("hostIP") or "0.0.0.0"), str(port.get("protocol") or "TCP"), number))
    return tuple(found)


def is_pending_for(pod: Obj, scheduler_name: str) -> bool:
    """Unassigned, not being deleted, not finished, and asking for this scheduler."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName") or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return False
    return (spec.get("schedulerName") or DEFAULT_SCHEDULER) == scheduler_name
