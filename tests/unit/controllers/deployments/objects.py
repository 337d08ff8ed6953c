"""Builders for Deployment tests: a Deployment, and ReplicaSets it owns for a given template."""

from __future__ import annotations

import copy
from typing import Any

from edgekube.controllers.deployments.hashing import HASH_LABEL
from edgekube.controllers.deployments.revisions import DESIRED_REPLICAS, MAX_REPLICAS, REVISION
from edgekube.resources.objects import Obj
from tests.unit.controllers.replicasets.objects import controller_ref, template


def image(version: int) -> str:
    return f"registry.local/web:{version}"


def deployment(
    replicas: int = 3,
    version: int = 1,
    *,
    surge: Any = None,
    unavailable: Any = None,
    recreate: bool = False,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> Obj:
    strategy: dict[str, Any] = {"type": "Recreate"} if recreate else {"type": "RollingUpdate"}
    if surge is not None or unavailable is not None:
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    md: dict[str, Any] = {"name": "web"}
    if annotations:
        md["annotations"] = annotations
    return {
        "metadata": md,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": strategy,
            "template": template({"app": "web"}, image(version)),
            **spec,
        },
    }


def owned_replicaset(
    d: Obj,
    name: str,
    replicas: int,
    revision: int,
    version: int | None = None,
    *,
    desired: int | None = None,
    maximum: int | None = None,
) -> Obj:
    """A ReplicaSet of stored Deployment `d` for its template (or the template of `version`)."""
    pod_hash = name.rsplit("-", 1)[-1]
    tmpl = copy.deepcopy(d["spec"]["template"])
    if version is not None:
        tmpl["spec"]["containers"][0]["image"] = image(version)
    tmpl["metadata"]["labels"][HASH_LABEL] = pod_hash
    selector = copy.deepcopy(d["spec"]["selector"])
    selector["matchLabels"][HASH_LABEL] = pod_hash
    annotations = {REVISION: str(revision)}
    if desired is not None:
        annotations[DESIRED_REPLICAS] = str(desired)
        annotations[MAX_REPLICAS] = str(maximum if maximum is not None else desired)
    return {
        "metadata": {
            "name": name,
            "labels": dict(tmpl["metadata"]["labels"]),
            "annotations": annotations,
            "ownerReferences": [controller_ref(d)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": tmpl},
    }


def rs_status(replicas: int, ready: int | None = None, available: int | None = None) -> Obj:
    ready = replicas if ready is None else ready
    available = ready if available is None else available
    return {
        "replicas": replicas,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": 1,
    }
