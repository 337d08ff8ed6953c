"""One Service and the pods of the endpoints tests: ready, not ready, missing a named port..."""

from __future__ import annotations

from typing import Any

from edgekube.resources.objects import Obj
from tests.unit.controllers.garbage.harness import Harness
from tests.unit.controllers.garbage.objects import pod

NS = "shop"
WEB_PORT = {"name": "web", "containerPort": 8080}


def web_service(**spec: Any) -> Obj:
    return {
        "metadata": {"name": "web", "labels": {"tier": "front"}},
        "spec": {
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "web"},
                {"name": "metrics", "port": 9100, "targetPort": 9100},
            ],
            **spec,
        },
    }


def running(ip: str | None, *, ready: bool) -> Obj:
    status: Obj = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return status


async def add_pod(
    h: Harness,
    name: str,
    ip: str | None,
    *,
    ready: bool = True,
    ports: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    node: str | None = "pi-1",
    namespace: str = NS,
    spec: dict[str, Any] | None = None,
    **extra: Any,
) -> Obj:
    container = {"name": "c", "image": "busybox:1", "ports": ports if ports is not None else [WEB_PORT]}
    body = pod(name, labels=labels or {"app": "web"}, containers=[container], **extra)
    body["spec"].update(spec or {})
    if node:
        body["spec"]["nodeName"] = node
    return await h.create("", "Pod", namespace, body, status=running(ip, ready=ready))


async def populate(h: Harness, **spec: Any) -> dict[str, Obj]:
    """Service web and pods: a (ready), b (not ready), c (ready, no "web" port), d (no IP),
    e (ready, terminating), f (other labels), g (same labels, other namespace)."""
    await h.create("", "Namespace", None, {"metadata": {"name": NS}})
    await h.create("", "Namespace", None, {"metadata": {"name": "elsewhere"}})
    svc = await h.create("", "Service", NS, web_service(**spec))
    pods = {
        "a": await add_pod(h, "a", "10.42.0.5"),
        "b": await add_pod(h, "b", "10.42.0.6", ready=False),
        "c": await add_pod(h, "c", "10.42.0.7", ports=[]),
        "d": await add_pod(h, "d", None, node=None),
        "e": await add_pod(h, "e", "10.42.0.9", finalizers=["example.com/hold"]),
        "f": await add_pod(h, "f", "10.42.0.10", labels={"app": "db"}),
        "g": await add_pod(h, "g", "10.42.0.11", namespace="elsewhere"),
    }
    await h.delete("", "Pod", NS, "e")  # stays, terminating, held by its finalizer
    pods["e"] = await h.read("", "Pod", NS, "e") or {}
    return {"svc": svc, **pods}


def target(p: Obj) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "namespace": p["metadata"]["namespace"],
        "name": p["metadata"]["name"],
        "uid": p["metadata"]["uid"],
    }
