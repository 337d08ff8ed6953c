"""Pods, Namespaces and NetworkPolicies as the API serves them, for the NetworkPolicy tests."""

from __future__ import annotations

import ipaddress
from typing import Any

from agent.network.local import LocalNode

Obj = dict[str, Any]

NODE = LocalNode(
    name="n1",
    ip=ipaddress.IPv4Address("198.18.0.11"),
    pod_cidr=ipaddress.IPv4Network("10.42.1.0/24"),
    interface="eth0",
    mtu=1500,
)


def pod(
    ns: str,
    name: str,
    ip: str | None,
    *,
    node: str = "n1",
    labels: dict[str, str] | None = None,
    ports: list[Obj] | None = None,
    phase: str = "Running",
    host_network: bool = False,
) -> Obj:
    status: Obj = {"phase": phase}
    if ip is not None:
        status["podIP"] = ip
    spec: Obj = {"nodeName": node, "containers": [{"name": "c", "image": "busybox", "ports": ports or []}]}
    if host_network:
        spec["hostNetwork"] = True
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"namespace": ns, "name": name, "labels": labels or {}},
        "spec": spec,
        "status": status,
    }


def namespace(name: str, **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}},
    }


def policy(ns: str, name: str, **spec: Any) -> Obj:
    """A NetworkPolicy; `spec` keys as the API spells them (podSelector defaults to every pod)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"namespace": ns, "name": name},
        "spec": {"podSelector": {}, **spec},
    }


def labels(**match: str) -> Obj:
    """A `{matchLabels: ...}` selector."""
    return {"matchLabels": match}


def tcp(port: int | str | None = None, end_port: int | None = None, protocol: str = "TCP") -> Obj:
    found: Obj = {"protocol": protocol}
    if port is not None:
        found["port"] = port
    if end_port is not None:
        found["endPort"] = end_port
    return found
