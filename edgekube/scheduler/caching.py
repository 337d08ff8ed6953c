"""The scheduler's picture of the cluster: NodeInfos kept current one event at a time.

Fed by the node, pod and namespace informers (through `handling.py`) and by the scheduler
itself: `assume` puts a pod on its chosen node before the binding is written, so the next
decision already counts it; the pod's informer update later confirms it (`add_pod` of the
same key), and a failed bind `forget`s it. A pod is on at most one node here.

Besides the NodeInfos, the cache keeps indexes that plugins would otherwise rebuild by
walking every pod for every decision:
  - pods per controller per node (spreading);
  - pods by label (candidates for a pod-affinity term's selector);
  - the distinct pod-affinity terms existing pods carry, each with the topology values
    where such pods run. Pods of one ReplicaSet share their terms, so checking "does any
    existing pod's anti-affinity refuse this pod" costs one match per distinct term, not
    one per pod. When a node's labels change, its pods' terms are re-indexed.
It is the `Snapshot` plugins read; it never changes during a (synchronous) attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import structlog

from edgekube.resources.objects import Obj
from edgekube.resources.selectors import Operator
from edgekube.scheduler.framework import TermDomains, TermKind
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.terms import AffinityTerm

log = structlog.get_logger(__name__)

_NO_LABELS: Mapping[str, str] = {}
_NO_COUNTS: Mapping[str, int] = {}

TermIndex = dict[tuple[AffinityTerm, int], dict[str, int]]


def _terms_of(pod: PodInfo) -> Iterable[tuple[TermKind, AffinityTerm, int]]:
    for term in pod.required_affinity:
        yield TermKind.REQUIRED_AFFINITY, term, 0
    for term in pod.required_anti_affinity:
        yield TermKind.REQUIRED_ANTI_AFFINITY, term, 0
    for weighted in pod.preferred_affinity:
        yield TermKind.PREFERRED_AFFINITY, weighted.term, weighted.weight
    for weighted in pod.preferred_anti_affinity:
        yield TermKind.PREFERRED_ANTI_AFFINITY, weighted.term, weighted.weight


def _bump(counts: dict[str, int], key: str, sign: int) -> bool:
    """Add `sign` to counts[key], dropping it at zero; True when `counts` became empty."""
    left = counts.get(key, 0) + sign
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)
    return not counts


class SchedulerCache:
    def __init__(self) -> None:
        self._infos: dict[str, NodeInfo] = {}
        self._list: list[NodeInfo] | None = []  # nodes that exist, in arrival order; None: rebuild
        self._pod_node: dict[str, str] = {}  # pod key -> node name
        self._assumed: set[str] = set()
        self._owners: dict[str, dict[str, int]] = {}  # controller uid -> node -> pods
        self._by_label: dict[tuple[str, str], dict[str, PodInfo]] = {}  # (label, value) -> pod key -> pod
        self._terms: dict[TermKind, TermIndex] = {kind: {} for kind in TermKind}
        self._namespaces: dict[str, Mapping[str, str]] = {}

    # -- the Snapshot interface ------------------------------------------------------------

    def nodes(self) -> Sequence[NodeInfo]:
        if self._list is None:
            self._list = [i for i in self._infos.values() if i.node is not None]
        return self._list

    def get(self, name: str) -> NodeInfo | None:
        return self._infos.get(name)

    def term_domains(self, kind: TermKind) -> TermDomains:
        return self._terms[kind]

    def pods_for(self, term: AffinityTerm) -> Iterable[tuple[PodInfo, NodeInfo]]:
        """Pods carrying a label the term's selector requires (all pods when it requires none)."""
        candidates: list[PodInfo] | None = None
        for req in term.selector.requirements if term.selector is not None else ():
            if req.operator in (Operator.EQUALS, Operator.IN):
                found = [p for v in req.values for p in self._by_label.get((req.key, v), {}).values()]
                if candidates is None or len(found) < len(candidates):
                    candidates = found
        if candidates is None:
            return ((p, i) for i in self._infos.values() if i.node is not None for p in i.pods.values())
        return ((p, info) for p in candidates if (info := self._infos[self._pod_node[p.key]]).node is not None)

    def owner_counts(self, owner_uid: str) -> Mapping[str, int]:
        return self._owners.get(owner_uid, _NO_COUNTS)

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        return self._namespaces.get(namespace, _NO_LABELS)

    # -- nodes ---------------------------------------------------------------------------

    def set_node(self, node: Obj) -> None:
        """Add or update a node (a bad allocatable quantity leaves the node out of scheduling)."""
        name = str((node.get("metadata") or {}).get("name") or "")
        info = self._infos.get(name)
        if info is None:
            info = self._infos[name] = NodeInfo(name)
        if info.node is None:
            self._list = None
        self._index_node_terms(info, -1)  # their domains may move with the node's labels
        try:
            info.set_node(node)
        except ValueError as err:
            log.warning("node has a bad allocatable quantity; not scheduling there", node=name, error=str(err))
            info.set_node(None)
            self._list = None
        self._index_node_terms(info, 1)

    def remove_node(self, name: str) -> None:
        info = self._infos.get(name)
        if info is None:
            return
        self._index_node_terms(info, -1)
        info.set_node(None)
        self._list = None
        if not info.pods:
            del self._infos[name]

    # -- pods ----------------------------------------------------------------------------

    def add_pod(self, pod: PodInfo) -> None:
        """A pod the informer shows on a node (new, changed, or confirming an assumption)."""
        self.remove_pod(pod.key)
        self._place(pod, pod.node_name)

    def remove_pod(self, key: str) -> PodInfo | None:
        self._assumed.discard(key)
        name = self._pod_node.pop(key, None)
        info = self._infos.get(name) if name is not None else None
        if info is None:
            return None
        pod = info.remove_pod(key)
        if pod is not None:
            self._index(pod, info, -1)
        if info.node is None and not info.pods:
            del self._infos[info.name]
        return pod

    def assume(self, pod: PodInfo, node_name: str) -> None:
        """Count `pod` on `node_name` until its binding is confirmed or forgotten."""
        self.remove_pod(pod.key)
        self._place(pod, node_name)
        self._assumed.add(pod.key)

    def forget(self, key: str) -> None:
        """Undo `assume` (the bind failed); a pod the informer has confirmed stays."""
        if key in self._assumed:
            self.remove_pod(key)

    def is_assumed(self, key: str) -> bool:
        return key in self._assumed

    def node_of(self, key: str) -> str | None:
        return self._pod_node.get(key)

    @property
    def assumed_count(self) -> int:
        return len(self._assumed)

    @property
    def pod_count(self) -> int:
        return len(self._pod_node)

    def _place(self, pod: PodInfo, node_name: str) -> None:
        info = self._infos.get(node_name)
        if info is None:
            info = self._infos[node_name] = NodeInfo(node_name)  # the node's own event comes later
        info.add_pod(pod)
        self._pod_node[pod.key] = node_name
        self._index(pod, info, 1)

    def _index(self, pod: PodInfo, info: NodeInfo, sign: int) -> None:
        if pod.owner_uid:
            counts = self._owners.setdefault(pod.owner_uid, {})
            if _bump(counts, info.name, sign):
                del self._owners[pod.owner_uid]
        for label in pod.labels.items():
            if sign > 0:
                self._by_label.setdefault(label, {})[pod.key] = pod
            else:
                holders = self._by_label.get(label)
                if holders is not None:
                    holders.pop(pod.key, None)
                    if not holders:
                        del self._by_label[label]
        if pod.has_pod_affinity:
            self._index_terms(pod, info, sign)

    def _index_node_terms(self, info: NodeInfo, sign: int) -> None:
        if info.affinity_pods:
            for pod in info.pods.values():
                if pod.has_pod_affinity:
                    self._index_terms(pod, info, sign)

    def _index_terms(self, pod: PodInfo, info: NodeInfo, sign: int) -> None:
        """Count (or uncount) `pod`'s terms where it runs; pods of a node that is gone do not count."""
        if info.node is None:
            return
        for kind, term, weight in _terms_of(pod):
            value = info.labels.get(term.topology_key)
            if value is None:
                continue
            index = self._terms[kind]
            domains = index.setdefault((term, weight), {})
            if _bump(domains, value, sign):
                del index[(term, weight)]

    # -- namespaces ----------------------------------------------------------------------

    def set_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        self._namespaces[name] = labels

    def remove_namespace(self, name: str) -> None:
        self._namespaces.pop(name, None)
