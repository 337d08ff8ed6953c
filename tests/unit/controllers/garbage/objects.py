"""Small builders for the objects the controller tests preload."""

from __future__ import annotations

from typing import Any

from edgekube.resources.objects import Obj


def ref(owner: Obj, *, block: bool = True, controller: bool = True) -> dict[str, Any]:
    """An ownerReference to `owner`, as a workload controller writes it."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": block,
    }


def meta(name: str, owners: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, **extra}
    if owners:
        md["ownerReferences"] = owners
    return md


def pod(
    name: str,
    owners: list[dict[str, Any]] | None = None,
    *,
    labels: dict[str, str] | None = None,
    containers: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Obj:
    md = meta(name, owners, **extra)
    if labels:
        md["labels"] = labels
    return {"metadata": md, "spec": {"containers": containers or [{"name": "c", "image": "busybox:1"}]}}


def _template(app: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}


def deployment(name: str, **extra: Any) -> Obj:
    return {
        "metadata": meta(name, **extra),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": _template(name)},
    }


def replicaset(name: str, owners: list[dict[str, Any]] | None = None, app: str = "web", **extra: Any) -> Obj:
    return {
        "metadata": meta(name, owners, **extra),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}}, "template": _template(app)},
    }


def configmap(name: str, owners: list[dict[str, Any]] | None = None, **extra: Any) -> Obj:
    return {"metadata": meta(name, owners, **extra), "data": {"k": "v"}}
