"""Validation of a Service spec, in Kubernetes' words: the entry point and the type rules.

Runs on the defaulted object, so `type`, `protocol`, `targetPort` and the IP family
fields are filled in; a missing one here means the client sent an explicit empty
value. Ports and addresses have their own modules; this one ties them together and
checks the fields that depend on the type (externalName, affinity, traffic policies).
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each, required_because
from edgekube.resources.kinds.common_fields import integer, text
from edgekube.resources.kinds.common_service_ips import (
    is_headless,
    validate_cluster_ips,
    validate_external_ips,
)
from edgekube.resources.kinds.common_service_ports import validate_service_ports
from edgekube.resources.kinds.common_service_writes import (
    CLUSTER_IP,
    EXTERNAL_NAME,
    LOAD_BALANCER,
    NODE_PORT,
    externally_accessible,
)
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.validation import (
    forbidden,
    invalid_value,
    is_dns1123_subdomain,
    required,
    unsupported_value,
    validate_labels,
)

TYPES = (CLUSTER_IP, EXTERNAL_NAME, LOAD_BALANCER, NODE_PORT)
AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
MAX_AFFINITY_SECONDS = 86400


def validate_service_spec(svc: Obj) -> list[Cause]:
    """Every problem with the spec of one (defaulted) Service."""
    spec = svc.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    kind = spec.get("type")
    causes: list[Cause] = []
    if kind not in TYPES:
        causes.append(unsupported_value("spec.type", kind, TYPES))
    optional = is_headless(spec) or kind == EXTERNAL_NAME
    causes += validate_service_ports(spec.get("ports"), text(kind), optional=optional)
    if kind == EXTERNAL_NAME:
        causes += _validate_external_name(spec)
    else:
        causes += validate_cluster_ips(spec, text(kind))
    causes += _validate_affinity(spec)
    causes += _validate_traffic_policies(svc, spec)
    causes += validate_external_ips(spec.get("externalIPs"))
    causes += validate_labels(spec.get("selector"), "spec.selector")
    if kind != LOAD_BALANCER and spec.get("allocateLoadBalancerNodePorts") is not None:
        causes.append(forbidden(
            "spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"
        ))
    return causes


def _validate_external_name(spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    # `clusterIPs` mirrors `clusterIP`, so report the address once, under the plural.
    address = "clusterIPs" if spec.get("clusterIPs") else "clusterIP"
    for key in (address, "ipFamilies", "ipFamilyPolicy"):
        if spec.get(key):
            causes.append(forbidden(f"spec.{key}", "may not be set for ExternalName services"))
    # A trailing dot marks the name as fully qualified; it is not part of the name.
    name = text(spec.get("externalName")).removesuffix(".")
    if not name:
        causes.append(required("spec.externalName"))
    else:
        causes += invalid_each("spec.externalName", name, is_dns1123_subdomain(name))
    return causes


def _validate_affinity(spec: dict[str, Any]) -> list[Cause]:
    affinity = spec.get("sessionAffinity")
    if affinity not in AFFINITIES:
        return [unsupported_value("spec.sessionAffinity", affinity, AFFINITIES)]
    config = spec.get("sessionAffinityConfig")
    if affinity == "None":
        if not config:
            return []
        detail = "must not be set when session affinity is None"
        return [forbidden("spec.sessionAffinityConfig", detail)]
    field = "spec.sessionAffinityConfig.clientIP.timeoutSeconds"
    timeout = get_path(config, "clientIP", "timeoutSeconds")
    if timeout is None:
        return [required(field)]
    number = integer(timeout)
    if number is None or not 0 < number <= MAX_AFFINITY_SECONDS:
        return [invalid_value(
            field, timeout, f"must be greater than 0 and less than {MAX_AFFINITY_SECONDS}"
        )]
    return []


def _validate_traffic_policies(svc: Obj, spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    external = spec.get("externalTrafficPolicy")
    field = "spec.externalTrafficPolicy"
    if not externally_accessible(svc):
        if external:
            detail = "may only be set for externally-accessible services"
            causes.append(invalid_value(field, external, detail))
    elif not external:
        causes.append(required(field))
    elif external not in TRAFFIC_POLICIES:
        causes.append(unsupported_value(field, external, TRAFFIC_POLICIES))
    internal = spec.get("internalTrafficPolicy")
    field = "spec.internalTrafficPolicy"
    if internal is None:
        if spec.get("type") in (CLUSTER_IP, NODE_PORT, LOAD_BALANCER):
            causes.append(required_because(field, "must be specified"))
    elif internal not in TRAFFIC_POLICIES:
        causes.append(unsupported_value(field, internal, TRAFFIC_POLICIES))
    return causes
