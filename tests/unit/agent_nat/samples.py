"""Service and EndpointSlice objects for the NAT unit tests."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def svc(name: str = "web", cluster_ip: str = "10.43.0.20", *, ports: list[Obj] | None = None, **spec: Any) -> Obj:
    status = spec.pop("status", None)
    obj: Obj = {
        "metadata": {"namespace": "default", "name": name},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "ports": ports if ports is not None else [{"name": "http", "port": 80, "protocol": "TCP"}],
            **spec,
        },
    }
    if status is not None:
        obj["status"] = status
    return obj


def ep(ip: str, node: str = "n1", **conditions: bool) -> Obj:
    return {"addresses": [ip], "nodeName": node, "conditions": conditions or {"ready": True}}


def eps(service: str, endpoints: list[Obj], *, ports: list[Obj] | None = None, name: str = "") -> Obj:
    return {
        "metadata": {
            "namespace": "default",
            "name": name or f"{service}-x",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "ports": ports if ports is not None else [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints,
    }
