"""Admission for deletes: the namespaces every cluster starts with may never be deleted.

Kubernetes' NamespaceLifecycle plug-in refuses this with 403 before anything is
written; so does this one. It has the shape of a resource-service admission plug-in and
acts only on the DELETE operation of a Namespace.
"""

from __future__ import annotations

from edgekube.errors import Details, Forbidden
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service.bootstrap import SYSTEM_NAMESPACES


async def protect_system_namespaces(operation: str, strategy: Strategy, obj: Obj, old: Obj | None) -> None:
    """Raise 403 on a DELETE of default, kube-system, kube-public or kube-node-lease."""
    if operation != "DELETE" or (strategy.kind.group, strategy.kind.kind) != ("", "Namespace"):
        return
    name = str((obj.get("metadata") or {}).get("name") or "")
    if name in SYSTEM_NAMESPACES:
        raise Forbidden(
            f'namespaces "{name}" is forbidden: this namespace may not be deleted',
            details=Details(name=name, kind="namespaces"),
        )


__all__ = ["SYSTEM_NAMESPACES", "protect_system_namespaces"]
