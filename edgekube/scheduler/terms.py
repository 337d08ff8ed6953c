"""Node selector terms (node affinity) and pod affinity terms, parsed once and matched fast.

Node affinity: a `NodeSelector` matches when any of its terms does; a term matches when
all its `matchExpressions` (on labels) and `matchFields` (only `metadata.name`) hold; a term
with neither matches nothing. Operators: In, NotIn, Exists, DoesNotExist, and Gt/Lt, which
compare the label as an integer. A requirement Kubernetes would refuse to parse (unknown
operator, Gt with two values) makes its term match nothing, as there.

Pod affinity: a term selects pods by labels within a set of namespaces (its own list, or
those whose labels match its `namespaceSelector`; with neither, the pod's own namespace),
and names the node label (`topologyKey`) whose value defines "the same place". A term
without a `labelSelector` matches no pod. `matchLabelKeys`/`mismatchLabelKeys` add `key in
(my value)` / `key notin (my value)` for the owning pod's labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from edgekube.resources.selectors import LabelSelector, Operator, Requirement, label_selector_from_object

NamespaceLabels = Callable[[str], Mapping[str, str]]

_NEVER = "never"


@dataclass(frozen=True, slots=True)
class NodeRequirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt, or "never" when unparsable
    values: frozenset[str] = frozenset()
    bound: int = 0  # Gt/Lt

    def matches(self, value: str | None) -> bool:
        op = self.operator
        if op == "In":
            return value is not None and value in self.values
        if op == "NotIn":
            return value is None or value not in self.values
        if op == "Exists":
            return value is not None
        if op == "DoesNotExist":
            return value is None
        if op in ("Gt", "Lt") and value is not None:
            try:
                number = int(value)
            except ValueError:
                return False
            return number > self.bound if op == "Gt" else number < self.bound
        return False


def _node_requirement(raw: Any, *, field: bool) -> NodeRequirement:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        return NodeRequirement("", _NEVER)
    key, op = raw["key"], raw.get("operator")
    values = [str(v) for v in raw.get("values") or ()]
    if field and (key != "metadata.name" or op not in ("In", "NotIn") or len(values) != 1):
        return NodeRequirement(key, _NEVER)
    if op in ("In", "NotIn") and values:
        return NodeRequirement(key, op, frozenset(values))
    if op in ("Exists", "DoesNotExist") and not values:
        return NodeRequirement(key, op)
    if op in ("Gt", "Lt") and len(values) == 1:
        try:
            return NodeRequirement(key, op, bound=int(values[0]))
        except ValueError:
            pass
    return NodeRequirement(key, _NEVER)


@dataclass(frozen=True, slots=True)
class NodeTerm:
    expressions: tuple[NodeRequirement, ...]
    fields: tuple[NodeRequirement, ...]

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        if not self.expressions and not self.fields:
            return False
        return all(r.matches(labels.get(r.key)) for r in self.expressions) and all(
            r.matches(name) for r in self.fields
        )

    @classmethod
    def parse(cls, raw: Any) -> NodeTerm:
        if not isinstance(raw, dict):
            return cls((), ())
        return cls(
            tuple(_node_requirement(r, field=False) for r in raw.get("matchExpressions") or ()),
            tuple(_node_requirement(r, field=True) for r in raw.get("matchFields") or ()),
        )


@dataclass(frozen=True, slots=True)
class NodeSelector:
    """`requiredDuringSchedulingIgnoredDuringExecution` of a node affinity: terms ORed."""

    terms: tuple[NodeTerm, ...]

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        return any(t.matches(labels, name) for t in self.terms)

    @classmethod
    def parse(cls, raw: Any) -> NodeSelector:
        terms = raw.get("nodeSelectorTerms") if isinstance(raw, dict) else None
        return cls(tuple(NodeTerm.parse(t) for t in terms or ()))


@dataclass(frozen=True, slots=True)
class PreferredNodeTerm:
    weight: int
    term: NodeTerm


def preferred_node_terms(raw: Any) -> tuple[PreferredNodeTerm, ...]:
    found = []
    for item in raw or ():
        if isinstance(item, dict) and isinstance(item.get("weight"), int) and item["weight"]:
            found.append(PreferredNodeTerm(item["weight"], NodeTerm.parse(item.get("preference"))))
    return tuple(found)


# -- pod affinity ----------------------------------------------------------------------------


class PodLike(Protocol):
    """What a term looks at in a pod (PodInfo provides these)."""

    @property
    def namespace(self) -> str: ...

    @property
    def labels(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    selector: LabelSelector | None  # None: matches no pod
    namespaces: frozenset[str]
    namespace_selector: LabelSelector | None  # None: not set
    topology_key: str

    def matches(self, pod: PodLike, namespace_labels: NamespaceLabels) -> bool:
        if self.selector is None:
            return False
        if pod.namespace not in self.namespaces and (
            self.namespace_selector is None or not self.namespace_selector.matches(namespace_labels(pod.namespace))
        ):
            return False
        return self.selector.matches(pod.labels)


@dataclass(frozen=True, slots=True)
class WeightedAffinityTerm:
    weight: int
    term: AffinityTerm


def affinity_term(raw: Any, namespace: str, labels: Mapping[str, str]) -> AffinityTerm:
    """One `podAffinityTerm` of a pod in `namespace` with `labels`; ValueError when invalid."""
    if not isinstance(raw, dict):
        raise ValueError("a pod affinity term must be an object")
    topology_key = raw.get("topologyKey")
    if not isinstance(topology_key, str) or not topology_key:
        raise ValueError("a pod affinity term needs a topologyKey")
    selector = _selector(raw.get("labelSelector"))
    if selector is not None:
        extra = [Requirement(k, Operator.IN, (labels[k],)) for k in raw.get("matchLabelKeys") or () if k in labels]
        extra += [
            Requirement(k, Operator.NOT_IN, (labels[k],)) for k in raw.get("mismatchLabelKeys") or () if k in labels
        ]
        if extra:
            selector = LabelSelector.of([*selector.requirements, *extra])
    names = frozenset(str(n) for n in raw.get("namespaces") or ())
    namespace_selector = _selector(raw.get("namespaceSelector"))
    if not names and namespace_selector is None:
        names = frozenset((namespace,))
    return AffinityTerm(selector, names, namespace_selector, topology_key)


def _selector(raw: Any) -> LabelSelector | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("a label selector must be an object")
    return label_selector_from_object(raw)


def weighted_terms(raw: Any, namespace: str, labels: Mapping[str, str]) -> tuple[WeightedAffinityTerm, ...]:
    found = []
    for item in raw or ():
        if not isinstance(item, dict) or not isinstance(item.get("weight"), int):
            raise ValueError("a preferred pod affinity term needs an integer weight")
        term = affinity_term(item.get("podAffinityTerm"), namespace, labels)
        found.append(WeightedAffinityTerm(item["weight"], term))
    return tuple(found)
