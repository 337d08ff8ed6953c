"""Container resource requests and limits: their checks, their defaults and a pod's QoS class.

Amounts arrive as quantities (strings or JSON numbers) keyed by resource name under
`resources.requests` and `resources.limits`. Checks report by key, as Kubernetes does
(`spec.containers[0].resources.requests[cpu]`). A pod (not a template) gets requests
defaulted from limits; the QoS class is computed from those effective requests, so it
is right even when computed before defaulting ran.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_quantities import parse_quantity
from edgekube.resources.kinds.workload_causes import dicts, required_because
from edgekube.resources.validation import invalid_value, is_qualified_name

STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_HUGEPAGES_PREFIX = "hugepages-"
# Only these two decide the QoS class; other resources never make a pod Guaranteed.
_QOS_RESOURCES = ("cpu", "memory")

GUARANTEED = "Guaranteed"
BURSTABLE = "Burstable"
BEST_EFFORT = "BestEffort"


def validate_resources(resources: Any, path: str) -> list[Cause]:
    """Problems with one container's `resources`: names, amounts, and requests above limits."""
    if not isinstance(resources, dict):
        return []
    causes: list[Cause] = []
    limits = _amounts(resources.get("limits"), f"{path}.limits", causes)
    requests = _amounts(resources.get("requests"), f"{path}.requests", causes)
    for name, (raw, amount) in requests.items():
        field = f"{path}.requests[{name}]"
        limit = limits.get(name)
        if limit is None:
            if not _overcommit_allowed(name):
                causes.append(
                    required_because(
                        f"{path}.limits[{name}]",
                        "Limit must be set for non overcommitable resources",
                    )
                )
            continue
        limit_raw, limit_amount = limit
        # Devices and hugepages cannot be shared, so a request must be exactly the limit.
        if not _overcommit_allowed(name) and amount != limit_amount:
            causes.append(invalid_value(field, raw, f"must be equal to {name} limit of {limit_raw}"))
        elif amount > limit_amount:
            causes.append(invalid_value(field, raw, f"must be less than or equal to {name} limit of {limit_raw}"))
    return causes


def _amounts(values: Any, path: str, causes: list[Cause]) -> dict[str, tuple[Any, Decimal]]:
    """The parseable amounts of a requests or limits map, reporting the rest into `causes`."""
    if not isinstance(values, dict):
        return {}
    out: dict[str, tuple[Any, Decimal]] = {}
    for name, raw in values.items():
        field = f"{path}[{name}]"
        causes += _name_problems(name, field)
        try:
            amount = parse_quantity(raw)
        except ValueError as err:
            causes.append(invalid_value(field, raw, str(err)))
            continue
        if amount < 0:
            causes.append(invalid_value(field, raw, "must be greater than or equal to 0"))
        elif _is_extended(name) and amount != amount.to_integral_value():
            causes.append(invalid_value(field, raw, "must be an integer"))
        out[name] = (raw, amount)
    return out


def _name_problems(name: str, field: str) -> list[Cause]:
    if "/" not in name:
        if name in STANDARD_CONTAINER_RESOURCES or _is_hugepages(name):
            return []
        return [invalid_value(field, name, "must be a standard resource for containers")]
    return [invalid_value(field, name, msg) for msg in is_qualified_name(name)]


def _is_hugepages(name: str) -> bool:
    return name.startswith(_HUGEPAGES_PREFIX) and len(name) > len(_HUGEPAGES_PREFIX)


def _is_extended(name: str) -> bool:
    """Device-plugin resources (`vendor.com/gpu`): a domain that is not kubernetes.io."""
    return "/" in name and not name.startswith("kubernetes.io/")


def _overcommit_allowed(name: str) -> bool:
    return not _is_extended(name) and not _is_hugepages(name)


def default_requests_from_limits(container: dict[str, Any]) -> None:
    """A pod container's missing requests are its limits, so the scheduler reserves them."""
    resources = container.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
        return
    limits: dict[str, Any] = resources["limits"]
    if not limits:
        return
    requests = resources.get("requests")
    if not isinstance(requests, dict):
        requests = resources["requests"] = {}
    for name, amount in limits.items():
        requests.setdefault(name, amount)


def qos_class(spec: Any) -> str:
    """The pod's QoS class: Guaranteed, Burstable or BestEffort, as the kubelet sees it.

    Guaranteed: every container (init containers too) limits both cpu and memory and
    requests exactly its limits. BestEffort: no container requests or limits cpu or
    memory. Burstable: anything between.
    """
    if not isinstance(spec, dict):
        return BEST_EFFORT
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    for key in ("containers", "initContainers"):
        for _, container in dicts(spec.get(key)):
            resources = container.get("resources")
            if not isinstance(resources, dict):
                resources = {}
            own_limits = _positive(resources.get("limits"))
            # A pod's requests default to its limits; count them so here as well.
            own_requests = {**own_limits, **_positive(resources.get("requests"))}
            _add(requests, own_requests)
            _add(limits, own_limits)
            if not all(name in own_limits for name in _QOS_RESOURCES):
                guaranteed = False
    if not requests and not limits:
        return BEST_EFFORT
    if guaranteed and requests == limits:
        return GUARANTEED
    return BURSTABLE


def _positive(values: Any) -> dict[str, Decimal]:
    """The QoS resources of a requests or limits map whose amounts are above zero."""
    if not isinstance(values, dict):
        return {}
    out: dict[str, Decimal] = {}
    for name in _QOS_RESOURCES:
        try:
            amount = parse_quantity(values.get(name))
        except ValueError:
            continue
        if amount > 0:
            out[name] = amount
    return out


def _add(total: dict[str, Decimal], more: dict[str, Decimal]) -> None:
    for name, amount in more.items():
        total[name] = total.get(name, Decimal(0)) + amount
