"""Informer handlers that turn Service and Pod changes into Service keys (`namespace/name`).

A pod change concerns every Service in its namespace whose selector picks the pod, before
or after the change (a relabelled pod leaves one Service and joins another).
"""

from __future__ import annotations

from collections.abc import Callable

from edgekube.controllers.endpoints.selecting import selects
from edgekube.controllers.informing import Handlers, Informer, object_key
from edgekube.resources.objects import Obj


def services_selecting(services: Informer, pod: Obj) -> list[str]:
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    return [object_key(svc) for svc in services.list(namespace) if selects(svc, pod)]


def pod_handlers(services: Informer, enqueue: Callable[[str], None]) -> Handlers:
    def changed(pod: Obj) -> None:
        for key in services_selecting(services, pod):
            enqueue(key)

    def updated(old: Obj, new: Obj) -> None:
        changed(new)
        if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
            changed(old)

    return Handlers(on_add=changed, on_update=updated, on_delete=changed)


def service_handlers(enqueue: Callable[[str], None]) -> Handlers:
    def changed(svc: Obj) -> None:
        enqueue(object_key(svc))

    return Handlers(on_add=changed, on_update=lambda _old, new: changed(new), on_delete=changed)
