"""Delete every object inside one namespace, kind by kind, and count what is still there.

The kinds are the registry's namespaced kinds, in registry order. Objects already being
deleted are not deleted again (that would write nothing new); they count as remaining,
as do objects this pass marked but could not remove at once (finalizers, or a pod's
grace period on its node). Deletes use Background propagation, as Kubernetes'
namespace controller does: everything in the namespace goes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from edgekube.errors import NotFound
from edgekube.resources.objects import Obj
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, ListOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


@dataclass
class Emptied:
    deleted: int = 0  # removed by this pass
    remaining: int = 0  # still stored: being deleted, waiting on finalizers or a grace period


async def empty_namespace(service: ResourceService, namespace: str) -> Emptied:
    """One pass over every namespaced kind: delete what is in `namespace`."""
    found = Emptied()
    for strategy in service.registry:
        if not strategy.kind.namespaced or "delete" not in strategy.kind.verbs:
            continue
        page = await service.list(strategy, namespace, ListOptions())
        objs: list[Obj] = page.decoded if page.decoded is not None else [i.decode() for i in page.items]
        for obj in sorted(objs, key=lambda o: str(o["metadata"].get("name"))):
            md = obj["metadata"]
            if md.get("deletionTimestamp"):
                found.remaining += 1
                continue
            try:
                result = await deleting.delete(
                    service,
                    strategy,
                    namespace,
                    str(md["name"]),
                    DeleteOptions(propagation_policy="Background"),
                    gc_running=True,
                )
            except NotFound:
                continue
            if result.finished:
                found.deleted += 1
            else:
                found.remaining += 1
    if found.deleted or found.remaining:
        log.info("emptying namespace", namespace=namespace, deleted=found.deleted, remaining=found.remaining)
    return found
