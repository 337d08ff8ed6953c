"""Validation of a whole pod spec, for pods and for the pod templates of workloads.

The spec arrives already defaulted (`pod_defaults`), so fields that defaulting fills in
are reported as required when a user blanked them. Causes carry the full path from the
object root (`spec.template.spec.containers[0].image` for a Deployment), because the
caller passes the prefix in.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_containers import validate_containers
from edgekube.resources.kinds.pod_ports import validate_host_ports
from edgekube.resources.kinds.pod_tolerations import validate_tolerations
from edgekube.resources.kinds.pod_volumes import validate_volumes
from edgekube.resources.kinds.workload_causes import (
    INT32_MAX,
    check_int,
    dicts,
    required_because,
)
from edgekube.resources.validation import (
    invalid_value,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    required,
    unsupported_value,
    validate_labels,
)

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")

# Optional string fields and the name rule each must follow.
_NAMED_FIELDS = (
    ("serviceAccountName", is_dns1123_subdomain),
    ("nodeName", is_dns1123_subdomain),
    ("hostname", is_dns1123_label),
    ("subdomain", is_dns1123_label),
    ("priorityClassName", is_dns1123_subdomain),
    ("schedulerName", is_dns1123_subdomain),
)


def validate_pod_spec(spec: Any, path: str, *, for_pod: bool) -> list[Cause]:
    """Every problem with a pod spec at `path`; `for_pod` adds the checks only pods get."""
    if not isinstance(spec, dict):
        return [required(path)]
    causes, volumes = validate_volumes(spec.get("volumes"), f"{path}.volumes")
    causes += validate_containers(spec, path, volumes, for_pod=for_pod)
    causes += validate_host_ports(spec, path)
    causes += _restart_policy(spec.get("restartPolicy"), f"{path}.restartPolicy")
    causes += _dns(spec, path)
    causes += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    causes += validate_tolerations(spec.get("tolerations"), f"{path}.tolerations")
    causes += check_int(
        spec,
        "activeDeadlineSeconds",
        f"{path}.activeDeadlineSeconds",
        minimum=1,
        detail=f"must be between 1 and {INT32_MAX}, inclusive",
    )
    causes += _names(spec, path)
    causes += _readiness_gates(spec.get("readinessGates"), f"{path}.readinessGates")
    policy = spec.get("preemptionPolicy")
    if policy is not None and policy not in PREEMPTION_POLICIES:
        causes.append(unsupported_value(f"{path}.preemptionPolicy", policy, PREEMPTION_POLICIES))
    return causes


def _restart_policy(policy: Any, field: str) -> list[Cause]:
    if not policy:
        return [required(field)]
    if policy not in RESTART_POLICIES:
        return [unsupported_value(field, policy, RESTART_POLICIES)]
    return []


def _dns(spec: dict[str, Any], path: str) -> list[Cause]:
    policy = spec.get("dnsPolicy")
    if not policy:
        return [required(f"{path}.dnsPolicy")]
    if policy not in DNS_POLICIES:
        return [unsupported_value(f"{path}.dnsPolicy", policy, DNS_POLICIES)]
    if policy == "None" and not isinstance(spec.get("dnsConfig"), dict):
        return [required_because(f"{path}.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None")]
    return []


def _names(spec: dict[str, Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key, check in _NAMED_FIELDS:
        value = spec.get(key)
        if not value:
            continue
        field = f"{path}.{key}"
        if not isinstance(value, str):
            causes.append(invalid_value(field, value, "must be a string"))
            continue
        causes += [invalid_value(field, value, msg) for msg in check(value)]
    return causes


def _readiness_gates(gates: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, gate in dicts(gates):
        field = f"{path}[{i}].conditionType"
        condition = gate.get("conditionType")
        if not isinstance(condition, str) or not condition:
            causes.append(required(field))
            continue
        causes += [invalid_value(field, condition, msg) for msg in is_qualified_name(condition)]
    return causes
