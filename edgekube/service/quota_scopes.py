"""Which objects a quota tracks: all of them, or, with scopes, only the pods they describe.

A quota without `scopes` or `scopeSelector` tracks every object in its namespace. With
either, it tracks only pods that match every scope and every selector requirement:
  Terminating / NotTerminating: the pod has (or lacks) `activeDeadlineSeconds >= 0`;
  BestEffort / NotBestEffort: its QoS class is (or is not) BestEffort;
  PriorityClass: `priorityClassName` is In / NotIn the values, or set (Exists) or not;
  CrossNamespacePodAffinity: an affinity term reaches other namespaces.
"""

from __future__ import annotations

from typing import Any

from edgekube.resources.kinds.common_fields import integer, items, mapping, strings, text
from edgekube.resources.kinds.pod_resources import BEST_EFFORT as QOS_BEST_EFFORT
from edgekube.resources.kinds.pod_resources import qos_class
from edgekube.resources.kinds.resourcequotas import (
    BEST_EFFORT,
    CROSS_NAMESPACE_AFFINITY,
    NOT_BEST_EFFORT,
    NOT_TERMINATING,
    PRIORITY_CLASS,
    TERMINATING,
)
from edgekube.resources.objects import Obj, get_path
from edgekube.service.quota_usage import PODS


def _requirements(quota: Obj) -> list[tuple[str, str, list[str]]]:
    """(scope, operator, values): plain scopes are `Exists` requirements, as Kubernetes reads them."""
    spec = mapping(quota.get("spec"))
    found: list[tuple[str, str, list[str]]] = [(scope, "Exists", []) for scope in strings(spec.get("scopes"))]
    for _, req in items(mapping(spec.get("scopeSelector")).get("matchExpressions")):
        found.append((text(req.get("scopeName")), text(req.get("operator")), strings(req.get("values"))))
    return found


def is_scoped(quota: Obj) -> bool:
    return bool(_requirements(quota))


def tracks(quota: Obj, resource: str, obj: Obj) -> bool:
    """Whether `quota` tracks `obj`, an object of `resource` in the quota's namespace."""
    requirements = _requirements(quota)
    if not requirements:
        return True
    if resource != PODS:
        return False
    return all(_matches(scope, operator, values, obj) for scope, operator, values in requirements)


def _matches(scope: str, operator: str, values: list[str], pod: Obj) -> bool:
    if scope == PRIORITY_CLASS:
        name = text(get_path(pod, "spec", "priorityClassName"))
        return {
            "In": name in values,
            "NotIn": name not in values,
            "Exists": bool(name),
            "DoesNotExist": not name,
        }.get(operator, False)
    held = _has_scope(scope, pod)
    return not held if operator == "DoesNotExist" else held


def _has_scope(scope: str, pod: Obj) -> bool:
    spec = mapping(pod.get("spec"))
    deadline = integer(spec.get("activeDeadlineSeconds"))
    terminating = deadline is not None and deadline >= 0
    best_effort = qos_class(spec) == QOS_BEST_EFFORT
    return {
        TERMINATING: terminating,
        NOT_TERMINATING: not terminating,
        BEST_EFFORT: best_effort,
        NOT_BEST_EFFORT: not best_effort,
        CROSS_NAMESPACE_AFFINITY: _reaches_other_namespaces(spec),
    }.get(scope, False)


def _reaches_other_namespaces(spec: dict[str, Any]) -> bool:
    """An affinity or anti-affinity term that names namespaces or selects them."""
    affinity = mapping(spec.get("affinity"))
    for key in ("podAffinity", "podAntiAffinity"):
        rules = mapping(affinity.get(key))
        terms = [t for _, t in items(rules.get("requiredDuringSchedulingIgnoredDuringExecution"))]
        terms += [mapping(t.get("podAffinityTerm")) for _, t in items(rules.get(
            "preferredDuringSchedulingIgnoredDuringExecution"
        ))]
        if any(strings(t.get("namespaces")) or t.get("namespaceSelector") is not None for t in terms):
            return True
    return False
