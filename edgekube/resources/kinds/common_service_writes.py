"""How a Service write is completed before validation: defaults and carried-over values.

Clients often send a Service without the values the server filled in (`kubectl apply`
of the original manifest has no clusterIP or nodePorts). Kubernetes keeps the allocated
values in that case instead of treating the omission as a change, keeps `clusterIP` and
`clusterIPs` in step, and clears fields the new type no longer uses. These functions do
the same, on plain dicts, in the order Kubernetes does: carry over, sync, drop.
"""

from __future__ import annotations

from typing import Any

from edgekube.resources.kinds.common_fields import integer, items, mapping, same, text, writable
from edgekube.resources.objects import Obj

CLUSTER_IP = "ClusterIP"
NODE_PORT = "NodePort"
LOAD_BALANCER = "LoadBalancer"
EXTERNAL_NAME = "ExternalName"
HEADLESS = "None"
# How long a client sticks to one endpoint under ClientIP affinity (3 hours).
DEFAULT_AFFINITY_SECONDS = 10800


def service_type(svc: Obj) -> str:
    """`spec.type`, with the default (ClusterIP) for a Service not yet defaulted."""
    return text(mapping(svc.get("spec")).get("type")) or CLUSTER_IP


def externally_accessible(svc: Obj) -> bool:
    """Reachable from outside the cluster: NodePort, LoadBalancer, or with externalIPs."""
    kind = service_type(svc)
    spec = mapping(svc.get("spec"))
    if kind in (NODE_PORT, LOAD_BALANCER):
        return True
    return kind == CLUSTER_IP and bool(spec.get("externalIPs"))


def _needs_cluster_ip(svc: Obj) -> bool:
    return service_type(svc) != EXTERNAL_NAME


def _needs_node_ports(svc: Obj) -> bool:
    kind = service_type(svc)
    allocate = mapping(svc.get("spec")).get("allocateLoadBalancerNodePorts")
    return kind == NODE_PORT or (kind == LOAD_BALANCER and allocate is not False)


def _needs_health_check_port(svc: Obj) -> bool:
    spec = mapping(svc.get("spec"))
    return service_type(svc) == LOAD_BALANCER and spec.get("externalTrafficPolicy") == "Local"


def _node_ports(svc: Obj) -> set[int]:
    ports = (integer(p.get("nodePort")) for _, p in items(mapping(svc.get("spec")).get("ports")))
    return {n for n in ports if n}


def default_service(svc: Obj) -> None:
    """Kubernetes' Service defaults, applied where the client left a field unset."""
    spec = writable(svc, "spec")
    if spec is None:
        return
    if not spec.get("type"):
        spec["type"] = CLUSTER_IP
    kind = spec["type"]
    _default_affinity(spec)
    for _, port in items(spec.get("ports")):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if externally_accessible(svc) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and kind in (CLUSTER_IP, NODE_PORT, LOAD_BALANCER):
        spec["internalTrafficPolicy"] = "Cluster"
    if kind == LOAD_BALANCER and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if kind != EXTERNAL_NAME:
        # A single-stack IPv4 cluster: the allocator in Kubernetes fills these the same way.
        if spec.get("ipFamilyPolicy") is None:
            spec["ipFamilyPolicy"] = "SingleStack"
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]


def _default_affinity(spec: dict[str, Any]) -> None:
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = writable(spec, "sessionAffinityConfig")
        client_ip = writable(config, "clientIP") if config is not None else None
        if client_ip is not None and client_ip.get("timeoutSeconds") is None:
            client_ip["timeoutSeconds"] = DEFAULT_AFFINITY_SECONDS


def sync_cluster_ips_on_create(svc: Obj) -> None:
    """An old client sets only `clusterIP`; mirror it into `clusterIPs`."""
    spec = mapping(svc.get("spec"))
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]


def complete_update(new: Obj, old: Obj) -> None:
    """Carry over allocated values, sync the cluster IP fields, and drop stale ones."""
    if not isinstance(new.get("spec"), dict):
        return
    _carry_over_allocations(new, old)
    _sync_cluster_ips_on_update(new["spec"], mapping(old.get("spec")))
    _drop_type_dependent_fields(new, old)


def _carry_over_allocations(new: Obj, old: Obj) -> None:
    spec, old_spec = new["spec"], mapping(old.get("spec"))
    if _needs_cluster_ip(old) and _needs_cluster_ip(new):
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if _needs_node_ports(old) and _needs_node_ports(new):
        # A port keeps its old nodePort (matched by port name) unless the new spec already
        # uses that number on another port.
        taken = _node_ports(old) & _node_ports(new)
        by_name = {
            text(p.get("name")): integer(p.get("nodePort")) for _, p in items(old_spec.get("ports"))
        }
        for _, port in items(spec.get("ports")):
            previous = by_name.get(text(port.get("name")))
            if not port.get("nodePort") and previous and previous not in taken:
                port["nodePort"] = previous
    if _needs_health_check_port(old) and _needs_health_check_port(new):
        if not spec.get("healthCheckNodePort") and old_spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


def _sync_cluster_ips_on_update(spec: dict[str, Any], old_spec: dict[str, Any]) -> None:
    ip, old_ip = text(spec.get("clusterIP")), text(old_spec.get("clusterIP"))
    same_ips = same(spec.get("clusterIPs"), old_spec.get("clusterIPs"))
    if old_spec.get("clusterIPs") and not spec.get("clusterIPs") and ip == old_ip:
        # A client that knows only `clusterIP` sent the object back without `clusterIPs`.
        spec["clusterIPs"] = list(old_spec["clusterIPs"])
    elif ip != old_ip:
        if old_ip and not ip and same_ips:
            spec.pop("clusterIPs", None)
        if ip and same_ips:
            spec["clusterIPs"] = [ip]


def _drop_type_dependent_fields(new: Obj, old: Obj) -> None:
    """Clear what the new type no longer uses, unless the client changed it on purpose."""
    spec, old_spec = new["spec"], mapping(old.get("spec"))
    unchanged = [k for k in _TYPE_DEPENDENT if same(spec.get(k), old_spec.get(k))]
    if _needs_cluster_ip(old) and not _needs_cluster_ip(new):
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if key in unchanged:
                spec.pop(key, None)
    ports_unchanged = _node_ports(old) == _node_ports(new)
    if _needs_node_ports(old) and not _needs_node_ports(new) and ports_unchanged:
        for _, port in items(spec.get("ports")):
            port.pop("nodePort", None)
    if _needs_health_check_port(old) and not _needs_health_check_port(new):
        if "healthCheckNodePort" in unchanged:
            spec.pop("healthCheckNodePort", None)
    was_lb = service_type(old) == LOAD_BALANCER
    if was_lb and service_type(new) != LOAD_BALANCER:
        for key in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if key in unchanged:
                spec.pop(key, None)
    if externally_accessible(old) and not externally_accessible(new):
        if "externalTrafficPolicy" in unchanged:
            spec.pop("externalTrafficPolicy", None)
    if _needs_cluster_ip(old) and not _needs_cluster_ip(new):
        if "internalTrafficPolicy" in unchanged:
            spec.pop("internalTrafficPolicy", None)
    status = new.get("status")
    if service_type(new) != LOAD_BALANCER and isinstance(status, dict) and "loadBalancer" in status:
        # Load balancer teardown is asynchronous; clients need not see a stale address.
        status["loadBalancer"] = {}


_TYPE_DEPENDENT = (
    "clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort",
    "allocateLoadBalancerNodePorts", "loadBalancerClass", "externalTrafficPolicy",
    "internalTrafficPolicy",
)
