"""Small builders for quota tests: pods with amounts, quotas with a status."""

from __future__ import annotations

from typing import Any

from edgekube.resources.kinds.resourcequotas import amounts_of
from edgekube.resources.objects import Obj
from edgekube.service.quota_checking import QuotaState


def container(name: str = "app", *, requests: dict[str, str] | None = None,
              limits: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests is not None:
        resources["requests"] = requests
    if limits is not None:
        resources["limits"] = limits
    return {"name": name, "image": "localhost/app:1", "resources": resources, **extra}


def pod(name: str = "web-1", *containers: dict[str, Any], init: list[dict[str, Any]] | None = None,
        **spec: Any) -> Obj:
    body: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "team", "uid": f"uid-{name}"},
        "spec": {"containers": list(containers) or [container()], **spec},
    }
    if init:
        body["spec"]["initContainers"] = init
    return body


def quota(name: str = "compute", hard: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": "team"},
        "spec": {"hard": hard or {"pods": "10"}, **spec},
    }


def state(name: str = "compute", hard: dict[str, str] | None = None, used: dict[str, str] | None = None,
          **spec: Any) -> QuotaState:
    """A quota as admission sees it once the controller has counted it (`used` defaults to zeros)."""
    obj = quota(name, hard, **spec)
    limits = obj["spec"]["hard"]
    reported = used if used is not None else dict.fromkeys(limits, "0")
    return QuotaState(obj, amounts_of(limits), amounts_of(reported), frozenset(reported))
