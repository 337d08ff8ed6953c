"""InterPodAffinity: required pod (anti-)affinity filters nodes, preferred terms score them.

"Same place" is a node label (`topologyKey`): nodes with equal values of it form one
topology domain (a hostname label makes each node its own domain; a zone label groups).

Pre-filter collects, per (topology key, value):
  - domains holding a pod whose required anti-affinity matches the incoming pod (from the
    cache's index of distinct terms: one match per term, not per pod);
  - existing pods matching *all* of the incoming pod's required affinity terms;
  - existing pods matching each of its required anti-affinity terms.
and skips the filter when none of this applies to the pod. Filter, in Kubernetes' order:
  1. affinity: the node has every term's topology label and each domain holds a match
     (or no pod anywhere matches and the pod matches its own terms: the first of a group);
  2. anti-affinity: no domain of the node holds a match of the pod's terms;
  3. existing anti-affinity: no pod in the node's domains refuses the incoming pod.

Score, per domain: + weight for each preferred affinity term of the pod that a pod there
matches, - weight for anti-affinity terms, and the same the other way round for the terms
of the pods there that the incoming pod matches (their *required* affinity counting with
weight 1). A node's raw score sums its labels' domains; then min..max is scaled to 0..100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from edgekube.scheduler.framework import MAX_NODE_SCORE, CycleState, Snapshot, TermKind
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, SUCCESS, Status, unresolvable, unschedulable
from edgekube.scheduler.terms import AffinityTerm, WeightedAffinityTerm

NAME = "InterPodAffinity"
AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1  # what an existing pod's *required* affinity for this pod weighs in scoring

_AFFINITY = unresolvable(AFFINITY_REASON, plugin=NAME)
_ANTI_AFFINITY = unschedulable(ANTI_AFFINITY_REASON, plugin=NAME)
_EXISTING_ANTI_AFFINITY = unschedulable(EXISTING_ANTI_AFFINITY_REASON, plugin=NAME)

Domain = tuple[str, str]  # (topology key, value)


@dataclass(slots=True)
class _FilterState:
    existing_anti: dict[str, set[str]] = field(default_factory=dict)  # key -> values with a refusing pod
    affinity: dict[Domain, int] = field(default_factory=dict)
    anti: dict[Domain, int] = field(default_factory=dict)
    matches_itself: bool = False


@dataclass(slots=True)
class _ScoreState:
    domains: dict[str, dict[str, int]] = field(default_factory=dict)  # key -> value -> score

    def add(self, key: str, value: str, amount: int) -> None:
        values = self.domains.setdefault(key, {})
        values[value] = values.get(value, 0) + amount


def _count(counts: dict[Domain, int], node: NodeInfo, term: AffinityTerm) -> None:
    value = node.labels.get(term.topology_key)
    if value is not None:
        domain = (term.topology_key, value)
        counts[domain] = counts.get(domain, 0) + 1


class InterPodAffinity:
    name = NAME

    # -- filtering -----------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        labels_of = snapshot.namespace_labels
        found = _FilterState()
        for (term, _), values in snapshot.term_domains(TermKind.REQUIRED_ANTI_AFFINITY).items():
            if term.matches(pod, labels_of):
                found.existing_anti.setdefault(term.topology_key, set()).update(values)
        if not pod.required_affinity and not pod.required_anti_affinity and not found.existing_anti:
            return SKIP
        if pod.required_affinity:
            first, *rest = pod.required_affinity
            for existing, node in snapshot.pods_for(first):
                if first.matches(existing, labels_of) and all(t.matches(existing, labels_of) for t in rest):
                    for term in pod.required_affinity:
                        _count(found.affinity, node, term)
            found.matches_itself = all(t.matches(pod, labels_of) for t in pod.required_affinity)
        for term in pod.required_anti_affinity:
            for existing, node in snapshot.pods_for(term):
                if term.matches(existing, labels_of):
                    _count(found.anti, node, term)
        state.write(NAME, found)
        return SUCCESS

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        found = state.read(NAME, _FilterState)
        labels = node.labels
        if pod.required_affinity and not _affinity_holds(found, pod, labels):
            return _AFFINITY
        for term in pod.required_anti_affinity:
            value = labels.get(term.topology_key)
            if value is not None and found.anti.get((term.topology_key, value), 0) > 0:
                return _ANTI_AFFINITY
        for key, values in found.existing_anti.items():
            value = labels.get(key)
            if value is not None and value in values:
                return _EXISTING_ANTI_AFFINITY
        return SUCCESS

    # -- scoring -------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], snapshot: Snapshot) -> Status:
        labels_of = snapshot.namespace_labels
        found = _ScoreState()
        # Existing pods' terms that the incoming pod matches.
        for kind, sign in (
            (TermKind.REQUIRED_AFFINITY, 1),
            (TermKind.PREFERRED_AFFINITY, 1),
            (TermKind.PREFERRED_ANTI_AFFINITY, -1),
        ):
            for (term, weight), values in snapshot.term_domains(kind).items():
                if term.matches(pod, labels_of):
                    each = HARD_POD_AFFINITY_WEIGHT if kind is TermKind.REQUIRED_AFFINITY else sign * weight
                    for where, pods in values.items():
                        found.add(term.topology_key, where, each * pods)
        # The incoming pod's preferred terms that existing pods match.
        for weighted, sign in _preferred(pod):
            term = weighted.term
            for existing, node in snapshot.pods_for(term):
                value = node.labels.get(term.topology_key)
                if value is not None and term.matches(existing, labels_of):
                    found.add(term.topology_key, value, sign * weighted.weight)
        if not any(any(v.values()) for v in found.domains.values()):
            return SKIP  # every node would score the same
        state.write(NAME, found)
        return SUCCESS

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, Status]:
        total = 0
        for key, values in state.read(NAME, _ScoreState).domains.items():
            value = node.labels.get(key)
            if value is not None:
                total += values.get(value, 0)
        return total, SUCCESS

    def normalize_scores(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]) -> Status:
        low, high = min(scores, default=0), max(scores, default=0)
        spread = high - low
        scores[:] = [int(MAX_NODE_SCORE * (s - low) / spread) if spread > 0 else 0 for s in scores]
        return SUCCESS


def _preferred(pod: PodInfo) -> list[tuple[WeightedAffinityTerm, int]]:
    return [(w, 1) for w in pod.preferred_affinity] + [(w, -1) for w in pod.preferred_anti_affinity]


def _affinity_holds(found: _FilterState, pod: PodInfo, labels: Mapping[str, str]) -> bool:
    everywhere = True
    for term in pod.required_affinity:
        value = labels.get(term.topology_key)
        if value is None:
            return False  # the node lacks a topology label the pod needs
        if found.affinity.get((term.topology_key, value), 0) <= 0:
            everywhere = False
    # No matching pod anywhere, but the pod matches its own terms: let the first of a group in.
    return everywhere or (not found.affinity and found.matches_itself)
