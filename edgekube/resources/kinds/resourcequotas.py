"""The ResourceQuota kind (v1): hard limits on what a namespace may hold, and their use.

`spec.hard` maps resource names to quantities. A name without a `/` must be one of the
standard quota names (`pods`, `requests.cpu`, `services.nodeports`, ...); a name with one
is a qualified name (`count/deployments.apps`, `requests.example.com/gpu`,
`fast.storageclass.storage.k8s.io/requests.storage`), and counts of things must be whole
numbers. `spec.scopes` and `spec.scopeSelector` narrow a quota to some pods; scopes are
fixed once the quota exists. Status (`hard` as enforced, `used`) belongs to the quota
controller; `kubectl get` shows it as "used/hard" pairs, limits in a column of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each, required_because
from edgekube.resources.kinds.common_fields import items, mapping, strings, text
from edgekube.resources.kinds.pod_quantities import QUANTITY_FORMAT_ERROR, parse_quantity
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import immutable, invalid_value, is_qualified_name

KIND = Kind(
    group="",
    version="v1",
    kind="ResourceQuota",
    plural="resourcequotas",
    singular="resourcequota",
    namespaced=True,
    short_names=("quota",),
    categories=(),
    has_status=True,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    AGE_COLUMN,
    Column("Request", description="Request represents a minimum amount of cpu/memory that a container may consume."),
    Column(
        "Limit",
        description=(
            "Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node."
        ),
    ),
)

# Names that count objects: their amounts must be whole numbers.
OBJECT_COUNT_RESOURCES = frozenset({
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
})
# What a pod's containers ask for; the bare names are the same as `requests.*`.
COMPUTE_RESOURCES = frozenset({
    "cpu", "memory", "ephemeral-storage",
    "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage",
})
STANDARD_QUOTA_RESOURCES = OBJECT_COUNT_RESOURCES | COMPUTE_RESOURCES | {"requests.storage"}
HUGEPAGES_PREFIXES = ("hugepages-", "requests.hugepages-")

TERMINATING = "Terminating"
NOT_TERMINATING = "NotTerminating"
BEST_EFFORT = "BestEffort"
NOT_BEST_EFFORT = "NotBestEffort"
PRIORITY_CLASS = "PriorityClass"
CROSS_NAMESPACE_AFFINITY = "CrossNamespacePodAffinity"
SCOPES = (TERMINATING, NOT_TERMINATING, BEST_EFFORT, NOT_BEST_EFFORT, PRIORITY_CLASS, CROSS_NAMESPACE_AFFINITY)
# A BestEffort pod asks for nothing, so only the pod count can be limited for it.
_SCOPE_RESOURCES = {BEST_EFFORT: frozenset({"pods"})}
_POD_SCOPE_RESOURCES = COMPUTE_RESOURCES | {"pods"}
_CONFLICTS = ((BEST_EFFORT, NOT_BEST_EFFORT), (TERMINATING, NOT_TERMINATING))
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_EXISTS_ONLY = (
    "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, "
    "ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"
)


def is_standard_quota_resource(name: str) -> bool:
    return name in STANDARD_QUOTA_RESOURCES or name.startswith(HUGEPAGES_PREFIXES)


def is_integer_resource(name: str) -> bool:
    """Counts (`pods`, `count/...`) and device resources come in whole units only."""
    if name in OBJECT_COUNT_RESOURCES:
        return True
    return "/" in name and not name.startswith("requests.") and "kubernetes.io/" not in name


def validate_amounts(values: Any, path: str) -> list[Cause]:
    """Names and amounts of a `hard` or `used` map: quota names, quantities, >= 0, counts whole."""
    causes: list[Cause] = []
    for name, raw in mapping(values).items():
        field = f"{path}[{name}]"
        problems = is_qualified_name(name)
        if not problems and "/" not in name and not is_standard_quota_resource(name):
            problems = ["must be a standard resource for quota"]
        causes += invalid_each(field, name, problems)
        try:
            amount = parse_quantity(raw)
        except ValueError:
            causes.append(invalid_value(field, raw, QUANTITY_FORMAT_ERROR))
            continue
        if amount < 0:
            causes.append(invalid_value(field, raw, "must be greater than or equal to 0"))
        elif is_integer_resource(name) and amount != amount.to_integral_value():
            causes.append(invalid_value(field, raw, "must be an integer"))
    return causes


def validate_scopes(spec: dict[str, Any], path: str) -> list[Cause]:
    """Known scopes, none of a conflicting pair, and only resources a scope can narrow."""
    scopes = spec.get("scopes")
    if not isinstance(scopes, list) or not scopes:
        return []
    causes: list[Cause] = []
    hard = sorted(mapping(spec.get("hard")))
    for scope in scopes:
        if scope not in SCOPES:
            causes.append(invalid_value(path, scopes, "unsupported scope"))
            continue
        allowed = _SCOPE_RESOURCES.get(scope, _POD_SCOPE_RESOURCES)
        if any(is_standard_quota_resource(name) and name not in allowed for name in hard):
            causes.append(invalid_value(path, scopes, "unsupported scope applied to resource"))
    for pair in _CONFLICTS:
        if all(scope in scopes for scope in pair):
            causes.append(invalid_value(path, scopes, "conflicting scopes"))
    return causes


def validate_scope_selector(selector: Any, path: str) -> list[Cause]:
    """Each requirement names a scope and an operator; PriorityClass alone takes values."""
    causes: list[Cause] = []
    for i, req in items(mapping(selector).get("matchExpressions")):
        at = f"{path}.matchExpressions[{i}]"
        scope, operator, values = req.get("scopeName"), req.get("operator"), strings(req.get("values"))
        if scope not in SCOPES:
            causes.append(invalid_value(f"{at}.scopeName", scope, "unsupported scope"))
        if operator not in _OPERATORS:
            causes.append(invalid_value(f"{at}.operator", operator, "not a valid selector operator"))
            continue
        if scope in SCOPES and scope != PRIORITY_CLASS and operator != "Exists":
            causes.append(invalid_value(f"{at}.operator", operator, _EXISTS_ONLY))
        if operator in ("In", "NotIn") and not values:
            causes.append(required_because(
                f"{at}.values", "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"
            ))
        elif operator in ("Exists", "DoesNotExist") and values:
            detail = "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"
            causes.append(invalid_value(f"{at}.values", values, detail))
    return causes


def amounts_of(values: Any) -> dict[str, Decimal]:
    """The parseable amounts of a `hard` or `used` map (validation reported the rest)."""
    out: dict[str, Decimal] = {}
    for name, raw in mapping(values).items():
        try:
            out[name] = parse_quantity(raw)
        except ValueError:
            continue
    return out


@dataclass
class ResourceQuotaStrategy(Strategy):
    """ResourceQuotas: valid names and amounts, known scopes (fixed), used/hard columns."""

    columns: tuple[Column, ...] = COLUMNS

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        spec = mapping(obj.get("spec"))
        causes += validate_amounts(spec.get("hard"), "spec.hard")
        causes += validate_scopes(spec, "spec.scopes")
        causes += validate_scope_selector(spec.get("scopeSelector"), "spec.scopeSelector")
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        # Scopes decide which objects a quota has charged; changing them would orphan the charges.
        if set(strings(get_path(new, "spec", "scopes"))) != set(strings(get_path(old, "spec", "scopes"))):
            causes.append(immutable("spec.scopes"))
        return causes

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        status = mapping(new.get("status"))
        causes = super().validate_status_update(new, old)
        causes += validate_amounts(status.get("hard"), "status.hard")
        causes += validate_amounts(status.get("used"), "status.used")
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        """kubectl's cells: `pods: 1/10, requests.cpu: 500m/2` by name, `limits.*` in LIMIT."""
        hard = mapping(get_path(obj, "status", "hard"))
        used = mapping(get_path(obj, "status", "used"))
        requests: list[str] = []
        limits: list[str] = []
        for name in sorted(hard):
            cell = f"{name}: {_shown(used.get(name)) or '0'}/{_shown(hard.get(name))}"
            (limits if name.split(".", 1)[0] == "limits" and "." in name else requests).append(cell)
        return [get_path(obj, "metadata", "name"), age(obj, now), ", ".join(requests), ", ".join(limits)]


def _shown(value: Any) -> str:
    """A quantity as stored: a string, or a JSON number some client wrote."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return text(value)


STRATEGY = ResourceQuotaStrategy(KIND, tracks_generation=False)
