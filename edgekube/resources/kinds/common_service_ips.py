"""Validation of a Service's addresses: cluster IPs, IP families, external and LB IPs.

EdgeKube allocates Service addresses from one IPv4 range (single-stack), so IPv6
families and dual-stack policies are refused with the messages a single-stack
Kubernetes cluster gives. `clusterIP` and `clusterIPs` were synced before this runs.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each
from edgekube.resources.kinds.common_fields import items, strings, text
from edgekube.resources.kinds.common_net import (
    ip_problems,
    is_ipv6,
    parse_ip,
    special_ip_problems,
)
from edgekube.resources.kinds.common_service_writes import (
    EXTERNAL_NAME,
    HEADLESS,
    LOAD_BALANCER,
    NODE_PORT,
)
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.validation import (
    duplicate,
    immutable,
    invalid_value,
    is_dns1123_subdomain,
    required,
    unsupported_value,
)

IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")


def is_headless(spec: dict[str, Any]) -> bool:
    """`clusterIP: None`: DNS answers with the endpoints' addresses, no virtual IP."""
    return strings(spec.get("clusterIPs")) == [HEADLESS] or spec.get("clusterIP") == HEADLESS


def validate_cluster_ips(spec: dict[str, Any], kind: str) -> list[Cause]:
    """`clusterIP`, `clusterIPs` and the IP family fields of a non-ExternalName Service."""
    ip = text(spec.get("clusterIP"))
    ips = strings(spec.get("clusterIPs"))
    causes = _validate_sync(ip, ips) + _validate_families(spec)
    bad_ip = False
    for i, value in enumerate(ips):
        if i == 0 and value == HEADLESS:
            if len(ips) > 1:
                bad_ip = True
                causes.append(invalid_value(
                    "spec.clusterIPs", ips, "'None' must be the first and only value"
                ))
            continue
        problems = ip_problems(value)
        bad_ip = bad_ip or bool(problems)
        causes += invalid_each(f"spec.clusterIPs[{i}]", value, problems)
    if len(ips) > 2:
        causes.append(invalid_value("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if bad_ip:
        # Family checks on malformed addresses would only repeat the same complaint.
        return causes
    if len(ips) == 2 and is_ipv6(ips[0]) == is_ipv6(ips[1]):
        causes.append(invalid_value(
            "spec.clusterIPs", ips, "may specify no more than one IP for each IP family"
        ))
    if ips != [HEADLESS]:
        families = strings(spec.get("ipFamilies"))
        for i, (value, family) in enumerate(zip(ips, families, strict=False)):
            if (family == "IPv6") != is_ipv6(value):
                causes.append(invalid_value(
                    f"spec.clusterIPs[{i}]", value,
                    f"expected an {family} value as indicated by `ipFamilies[{i}]`",
                ))
    if is_headless(spec) and kind in (NODE_PORT, LOAD_BALANCER):
        causes.append(invalid_value(
            "spec.clusterIPs[0]", HEADLESS, f"may not be set to 'None' for {kind} services"
        ))
    return causes


def _validate_sync(ip: str, ips: list[str]) -> list[Cause]:
    if ip and not ips:
        return [required("spec.clusterIPs")]
    if ip and ips[0] != ip:
        return [invalid_value("spec.clusterIPs", ips, "first value must match `clusterIP`")]
    if not ip and ips:
        return [invalid_value(
            "spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"
        )]
    return []


def _validate_families(spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    families = spec.get("ipFamilies")
    seen: set[str] = set()
    for i, family in enumerate(families if isinstance(families, list) else []):
        field = f"spec.ipFamilies[{i}]"
        if family not in IP_FAMILIES:
            causes.append(unsupported_value(field, family, IP_FAMILIES))
            continue
        if family in seen:
            causes.append(duplicate(field, family))
        elif family == "IPv6":
            causes.append(invalid_value(field, family, "not configured on this cluster"))
        seen.add(family)
    policy = spec.get("ipFamilyPolicy")
    field = "spec.ipFamilyPolicy"
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        causes.append(unsupported_value(field, policy, IP_FAMILY_POLICIES))
    elif policy == "RequireDualStack":
        causes.append(invalid_value(
            field, policy, "this cluster is not configured for dual-stack services"
        ))
    elif policy == "SingleStack" and len(seen) == 2:
        causes.append(invalid_value(
            field, policy,
            "must be 'RequireDualStack' or 'PreferDualStack' "
            "when multiple IP families are specified",
        ))
    return causes


def validate_external_ips(values: Any) -> list[Cause]:
    """`spec.externalIPs`: routable addresses that nodes accept traffic for."""
    if not isinstance(values, list):
        return []
    causes: list[Cause] = []
    for i, value in enumerate(values):
        problems = ip_problems(value) or special_ip_problems(value)
        causes += invalid_each(f"spec.externalIPs[{i}]", value, problems)
    return causes


def validate_cluster_ip_update(new: Obj, old: Obj) -> list[Cause]:
    """The cluster IP stays for the life of a Service, except across ExternalName."""
    kinds = (text(get_path(new, "spec", "type")), text(get_path(old, "spec", "type")))
    if EXTERNAL_NAME in kinds:
        return []
    old_ip = text(get_path(old, "spec", "clusterIP"))
    if old_ip and text(get_path(new, "spec", "clusterIP")) != old_ip:
        return [immutable("spec.clusterIP")]
    return []


def validate_load_balancer_status(svc: Obj) -> list[Cause]:
    """Each load balancer ingress point is an IP address or a DNS name (not an IP)."""
    causes: list[Cause] = []
    for i, ingress in items(get_path(svc, "status", "loadBalancer", "ingress")):
        path = f"status.loadBalancer.ingress[{i}]"
        ip = ingress.get("ip")
        if ip:
            causes += invalid_each(f"{path}.ip", ip, ip_problems(ip))
        hostname = ingress.get("hostname")
        if isinstance(hostname, str) and hostname:
            causes += invalid_each(f"{path}.hostname", hostname, is_dns1123_subdomain(hostname))
            if parse_ip(hostname) is not None:
                causes.append(invalid_value(
                    f"{path}.hostname", hostname, "must be a DNS name, not an IP address"
                ))
    return causes
