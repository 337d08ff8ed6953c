"""Which pods back a Service, whether each is ready, and which port number each serves.

Pure functions over Service and Pod objects, shared by the Endpoints and EndpointSlice
controllers. A pod serves a Service port when the port's `targetPort` is a number, or
names a container port of the pod with the same protocol; a pod without that named
port does not serve that Service port (it may still serve the others).
"""

from __future__ import annotations

from typing import Any

from edgekube.resources.kinds.common_fields import integer, items, mapping, text
from edgekube.resources.kinds.common_net import is_ipv6, parse_ip
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.selectors import LabelSelector, label_selector_from_set

HEADLESS_LABEL = "service.kubernetes.io/headless"


def service_selector(svc: Obj) -> LabelSelector | None:
    """The pods a Service picks; None when it has no selector (its Endpoints are the user's)."""
    selector = {k: v for k, v in mapping(get_path(svc, "spec", "selector")).items() if isinstance(v, str)}
    return label_selector_from_set(selector) if selector else None


def selects(svc: Obj, pod: Obj) -> bool:
    selector = service_selector(svc)
    return selector is not None and bool(selector.matches(mapping(get_path(pod, "metadata", "labels"))))


def is_headless(svc: Obj) -> bool:
    return bool(get_path(svc, "spec", "clusterIP") == "None")


def address_family(svc: Obj) -> str:
    """`IPv4` or `IPv6`: the family of the Service's first IP, as its endpoints must be."""
    families = get_path(svc, "spec", "ipFamilies")
    first = families[0] if isinstance(families, list) and families else "IPv4"
    return "IPv6" if first == "IPv6" else "IPv4"


def pod_ip(pod: Obj, family: str) -> str | None:
    """The pod's address of `family` (podIPs first, then podIP), or None."""
    status = mapping(pod.get("status"))
    candidates = [text(e.get("ip")) for _, e in items(status.get("podIPs"))] + [text(status.get("podIP"))]
    for ip in candidates:
        if parse_ip(ip) is not None and is_ipv6(ip) == (family == "IPv6"):
            return ip
    return None


def is_ready(pod: Obj) -> bool:
    """The pod's Ready condition is True."""
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for _, c in items(get_path(pod, "status", "conditions"))
    )


def is_terminating(pod: Obj) -> bool:
    return bool(get_path(pod, "metadata", "deletionTimestamp"))


def may_serve(pod: Obj, *, include_terminating: bool) -> bool:
    """Whether `pod` belongs in a Service's endpoints at all (ready or not).

    A pod that finished for good (Never restarted and Failed or Succeeded, or OnFailure
    and Succeeded) serves nothing again; a terminating pod is left out unless asked for.
    """
    phase = get_path(pod, "status", "phase")
    policy = get_path(pod, "spec", "restartPolicy") or "Always"
    if policy == "Never" and phase in ("Failed", "Succeeded"):
        return False
    if policy == "OnFailure" and phase == "Succeeded":
        return False
    return include_terminating or not is_terminating(pod)


def target_port(pod: Obj, svc_port: dict[str, Any]) -> int | None:
    """The port number `pod` serves `svc_port` on, or None when the pod has no such named port."""
    target = svc_port.get("targetPort")
    if target is None or target in (0, ""):
        target = svc_port.get("port")
    number = integer(target)
    if number is not None:
        return number if number > 0 else None
    if not isinstance(target, str):
        return None
    protocol = svc_port.get("protocol") or "TCP"
    for _, container in items(get_path(pod, "spec", "containers")):
        for _, port in items(container.get("ports")):
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return integer(port.get("containerPort"))
    return None


def service_ports(svc: Obj) -> list[dict[str, Any]]:
    return [p for _, p in items(get_path(svc, "spec", "ports"))]


def hostname_for(svc: Obj, pod: Obj) -> str | None:
    """The DNS hostname a pod gets under a Service: only when its subdomain names the Service."""
    hostname = text(get_path(pod, "spec", "hostname"))
    if hostname and get_path(pod, "spec", "subdomain") == get_path(svc, "metadata", "name"):
        return hostname
    return None


def pod_reference(pod: Obj) -> dict[str, Any]:
    md = mapping(pod.get("metadata"))
    return {"kind": "Pod", "namespace": md.get("namespace"), "name": md.get("name"), "uid": md.get("uid")}


def derived_labels(svc: Obj) -> dict[str, str]:
    """The Service's labels, plus the headless marker for a headless Service."""
    labels = {k: v for k, v in mapping(get_path(svc, "metadata", "labels")).items() if isinstance(v, str)}
    if is_headless(svc):
        labels[HEADLESS_LABEL] = ""
    return labels
