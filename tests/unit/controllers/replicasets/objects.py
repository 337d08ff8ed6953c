"""Builders for the objects workload controller tests preload, and the kubelet's pod status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgekube.resources.objects import Obj
from edgekube.resources.times import format_time

IMAGE = "registry.local/web:1"


def template(labels: dict[str, str], image: str = IMAGE) -> Obj:
    return {"metadata": {"labels": dict(labels)}, "spec": {"containers": [{"name": "web", "image": image}]}}


def replicaset(name: str, replicas: int, labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    labels = labels or {"app": "web"}
    return {
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)}, "template": template(labels), **spec},
    }


def pod(name: str, labels: dict[str, str] | None = None, owner: Obj | None = None, **meta: Any) -> Obj:
    md: dict[str, Any] = {"name": name, "labels": dict(labels or {"app": "web"}), **meta}
    if owner is not None:
        md["ownerReferences"] = [controller_ref(owner)]
    return {"metadata": md, "spec": {"containers": [{"name": "web", "image": IMAGE}]}}


def controller_ref(owner: Obj) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def running(ready_since: datetime | None = None, restarts: int = 0) -> Obj:
    """A pod status as the kubelet writes it: Running, and Ready since `ready_since` if given."""
    status: Obj = {
        "phase": "Running",
        "containerStatuses": [{"name": "web", "ready": ready_since is not None, "restartCount": restarts}],
    }
    if ready_since is not None:
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": format_time(ready_since)}]
    else:
        status["conditions"] = [{"type": "Ready", "status": "False"}]
    return status
