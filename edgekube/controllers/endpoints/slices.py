"""The desired EndpointSlices of a Service: endpoints grouped by the ports they serve.

Every pod that may serve is one endpoint, terminating pods included (their conditions
say so: ready=false, serving=as the pod's readiness, terminating=true; with
publishNotReadyAddresses every endpoint is ready). Endpoints serving the same set of
ports share slices of at most MAX_ENDPOINTS_PER_SLICE; a Service without endpoints keeps
one empty slice, as Kubernetes does, so readers can tell "no endpoints" from "not synced".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgekube.controllers.endpoints.selecting import (
    address_family,
    derived_labels,
    hostname_for,
    is_ready,
    is_terminating,
    may_serve,
    pod_ip,
    pod_reference,
    service_ports,
    target_port,
)
from edgekube.resources.kinds.common_fields import items, mapping
from edgekube.resources.objects import Obj, get_path

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS_PER_SLICE = 100  # Kubernetes' default --max-endpoints-per-slice

PortKey = tuple[tuple[str, int | None, str, str], ...]


@dataclass
class SliceContent:
    """What one slice should hold: its ports and its endpoints (both in a fixed order)."""

    ports: list[dict[str, Any]]
    endpoints: list[dict[str, Any]]

    @property
    def key(self) -> PortKey:
        return port_key(self.ports)


def slice_port(svc_port: dict[str, Any], number: int) -> dict[str, Any]:
    """An EndpointSlice port as the API stores it (name defaults to "", protocol to TCP)."""
    port: dict[str, Any] = {
        "name": svc_port.get("name") or "",
        "port": number,
        "protocol": svc_port.get("protocol") or "TCP",
    }
    if svc_port.get("appProtocol"):
        port["appProtocol"] = svc_port["appProtocol"]
    return port


def port_key(ports: Any) -> PortKey:
    """A comparable key for a list of slice ports, whatever their order."""
    return tuple(
        sorted(
            (str(p.get("name") or ""), p.get("port"), str(p.get("protocol") or "TCP"), str(p.get("appProtocol") or ""))
            for _, p in items(ports)
        )
    )


def pod_endpoint(svc: Obj, pod: Obj, ip: str) -> dict[str, Any]:
    serving = get_path(svc, "spec", "publishNotReadyAddresses") is True or is_ready(pod)
    terminating = is_terminating(pod)
    # A terminating endpoint is never "ready" (old clients read only that condition),
    # unless the Service asks for every address regardless.
    ready = get_path(svc, "spec", "publishNotReadyAddresses") is True or (serving and not terminating)
    endpoint: dict[str, Any] = {
        "addresses": [ip],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        "targetRef": pod_reference(pod),
    }
    node = get_path(pod, "spec", "nodeName")
    if node:
        endpoint["nodeName"] = node
    hostname = hostname_for(svc, pod)
    if hostname:
        endpoint["hostname"] = hostname
    return endpoint


def desired_slices(svc: Obj, pods: list[Obj]) -> list[SliceContent]:
    """The slices `svc` should have, given the pods (already in its namespace and selected)."""
    family = address_family(svc)
    svc_ports = service_ports(svc)
    groups: dict[PortKey, SliceContent] = {}
    for pod in pods:
        ip = pod_ip(pod, family)
        if ip is None or not may_serve(pod, include_terminating=True):
            continue
        ports = []
        for svc_port in svc_ports:
            number = target_port(pod, svc_port)
            if number is not None:
                ports.append(slice_port(svc_port, number))
        if svc_ports and not ports:
            continue
        ports.sort(key=lambda p: (p["name"], p["port"], p["protocol"]))
        groups.setdefault(port_key(ports), SliceContent(ports, [])).endpoints.append(pod_endpoint(svc, pod, ip))
    if not groups:
        return [SliceContent([], [])]
    out = []
    for key in sorted(groups, key=str):
        group = groups[key]
        endpoints = sorted(group.endpoints, key=lambda e: (e["addresses"][0], str(e["targetRef"].get("name"))))
        for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            out.append(SliceContent(group.ports, endpoints[start : start + MAX_ENDPOINTS_PER_SLICE]))
    return out


def slice_labels(svc: Obj) -> dict[str, str]:
    labels = derived_labels(svc)
    labels[SERVICE_NAME_LABEL] = str(get_path(svc, "metadata", "name"))
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    return labels


def owner_reference(svc: Obj) -> dict[str, Any]:
    md = mapping(svc.get("metadata"))
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "name": md.get("name"),
        "uid": md.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def new_slice(svc: Obj, content: SliceContent) -> Obj:
    md = mapping(svc.get("metadata"))
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{md.get('name')}-",
            "namespace": md.get("namespace"),
            "labels": slice_labels(svc),
            "ownerReferences": [owner_reference(svc)],
        },
        "addressType": address_family(svc),
        "endpoints": content.endpoints,
        "ports": content.ports,
    }


def is_managed(slice_: Obj, svc_name: str) -> bool:
    """A slice this controller keeps for the Service named `svc_name`."""
    labels = mapping(get_path(slice_, "metadata", "labels"))
    return labels.get(SERVICE_NAME_LABEL) == svc_name and labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME


def owned_by(slice_: Obj, svc: Obj) -> bool:
    uid = get_path(svc, "metadata", "uid")
    return any(r.get("uid") == uid for _, r in items(get_path(slice_, "metadata", "ownerReferences")))


def same_content(slice_: Obj, svc: Obj, content: SliceContent) -> bool:
    return (
        (slice_.get("endpoints") or []) == content.endpoints
        and port_key(slice_.get("ports")) == content.key
        and mapping(get_path(slice_, "metadata", "labels")) == slice_labels(svc)
        and get_path(slice_, "metadata", "ownerReferences") == [owner_reference(svc)]
    )
