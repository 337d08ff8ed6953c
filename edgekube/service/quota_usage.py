"""What any object charges to quota, and which quota names each kind of object can charge.

Kinds are named as messages and `count/` names spell them: `pods`, `deployments.apps`.
Every object charges `count/<resource>`; a few kinds charge more:
  - pods: see `quota_pods`;
  - services: `services`, `services.nodeports` (one per port of a NodePort, or of a
    LoadBalancer that allocates node ports), `services.loadbalancers`;
  - claims: `persistentvolumeclaims`, `requests.storage` (the larger of what was asked
    and what was allocated), and both again per storage class as
    `<class>.storageclass.storage.k8s.io/<name>`;
  - configmaps, secrets, resourcequotas, replicationcontrollers: their legacy count name.
"""

from __future__ import annotations

from decimal import Decimal

from edgekube.resources.kinds.common_fields import mapping
from edgekube.resources.kinds.common_service_writes import LOAD_BALANCER, NODE_PORT, service_type
from edgekube.resources.kinds.common_storage import class_name
from edgekube.resources.kinds.pod_quantities import parse_quantity
from edgekube.resources.kinds.resourcequotas import COMPUTE_RESOURCES
from edgekube.resources.objects import Obj, get_path
from edgekube.service.quota_pods import pod_usage

PODS = "pods"
SERVICES = "services"
CLAIMS = "persistentvolumeclaims"
_LEGACY_COUNTS = frozenset({"configmaps", "secrets", "resourcequotas", "replicationcontrollers"})
_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
_SERVICE_NAMES = frozenset({"services", "services.nodeports", "services.loadbalancers"})
_CLAIM_NAMES = frozenset({"persistentvolumeclaims", "requests.storage"})
_ONE = Decimal(1)


def usage(resource: str, obj: Obj) -> dict[str, Decimal]:
    """Every quota name `obj` (an object of `resource`) charges, with its amount."""
    if resource == PODS:
        return pod_usage(obj)
    out = {f"count/{resource}": _ONE}
    if resource == SERVICES:
        out.update(_service_usage(obj))
    elif resource == CLAIMS:
        out.update(_claim_usage(obj))
    elif resource in _LEGACY_COUNTS:
        out[resource] = _ONE
    return out


def _service_usage(svc: Obj) -> dict[str, Decimal]:
    out = {"services": _ONE}
    ports = mapping(svc.get("spec")).get("ports")
    count = Decimal(len(ports) if isinstance(ports, list) else 0)
    kind = service_type(svc)
    if kind == LOAD_BALANCER:
        out["services.loadbalancers"] = _ONE
    allocates = get_path(svc, "spec", "allocateLoadBalancerNodePorts") is not False
    if count and (kind == NODE_PORT or (kind == LOAD_BALANCER and allocates)):
        out["services.nodeports"] = count
    return out


def _claim_usage(claim: Obj) -> dict[str, Decimal]:
    out = {"persistentvolumeclaims": _ONE}
    sizes = [
        get_path(claim, "spec", "resources", "requests", "storage"),
        get_path(claim, "status", "allocatedResources", "storage"),
    ]
    storage = max((_amount(s) for s in sizes), default=Decimal(0))
    if storage:
        out["requests.storage"] = storage
    cls = class_name(claim)
    if cls:
        out[f"{cls}{_CLASS_SUFFIX}persistentvolumeclaims"] = _ONE
        if storage:
            out[f"{cls}{_CLASS_SUFFIX}requests.storage"] = storage
    return out


def _amount(raw: object) -> Decimal:
    try:
        return parse_quantity(raw)
    except ValueError:
        return Decimal(0)


def counted_resource(name: str) -> str | None:
    """The kind (`pods`, `deployments.apps`) whose objects a quota name counts; None if unknown."""
    if name.startswith("count/"):
        return name[len("count/"):] or None
    if name == PODS or name in COMPUTE_RESOURCES or name.startswith(("hugepages-", "requests.hugepages-")):
        return PODS
    if name in _SERVICE_NAMES:
        return SERVICES
    if name in _CLAIM_NAMES or _CLASS_SUFFIX in name:
        return CLAIMS
    if name in _LEGACY_COUNTS:
        return name
    if name.startswith("requests.") and "/" in name and "kubernetes.io/" not in name:
        return PODS  # a device resource, such as requests.example.com/gpu
    return None


def covers(resource: str, name: str) -> bool:
    """Whether objects of `resource` can charge the quota name `name`."""
    return counted_resource(name) == resource
