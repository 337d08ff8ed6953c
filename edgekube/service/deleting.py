"""Deletes: preconditions, graceful deletion, finalizers and propagation policy.

An object with finalizers is not removed at once: it gets `deletionTimestamp` and stays
until the last finalizer is gone (the update path then completes the delete). A pod bound
to a node is deleted gracefully: the node's agent stops it and then deletes it for good.
Orphan and Foreground propagation are recorded as the `orphan` and `foregroundDeletion`
finalizers, which the garbage collector acts on; a server running without one (no
`gc_running`) deletes at once, with dependents left to be cleaned up later.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from edgekube.errors import Conflict, Details, conflict, not_found
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service import metadata as meta
from edgekube.service.listing import ListResult
from edgekube.service.options import DeleteOptions, ListOptions
from edgekube.service.resources import CONFLICT_RETRIES, ResourceService
from edgekube.store.errors import KeyNotFound, RevisionMismatch

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
# Kinds whose objects the garbage collector orphans by default (Kubernetes' legacy rule
# for the old extensions kinds does not apply here: everything defaults to Background).


@dataclass
class DeleteResult:
    obj: Obj
    finished: bool  # False: the object stays (finalizers or a grace period) with deletionTimestamp set


def _check_preconditions(strategy: Strategy, name: str, obj: Obj, revision: int, opts: DeleteOptions) -> None:
    md = obj.get("metadata", {})
    if opts.precondition_uid is not None and opts.precondition_uid != md.get("uid"):
        raise Conflict(
            f"Precondition failed: UID in precondition: {opts.precondition_uid}, UID in object meta: {md.get('uid')}",
            details=Details(name=name, group=strategy.kind.group, kind=strategy.kind.plural),
        )
    if opts.precondition_resource_version is not None and opts.precondition_resource_version != str(revision):
        raise Conflict(
            "Precondition failed: ResourceVersion in precondition: "
            f"{opts.precondition_resource_version}, ResourceVersion in object meta: {revision}",
            details=Details(name=name, group=strategy.kind.group, kind=strategy.kind.plural),
        )


def _grace_seconds(strategy: Strategy, obj: Obj, opts: DeleteOptions) -> int:
    """Seconds a pod bound to a node gets to stop; 0 deletes at once (every other kind)."""
    kind = strategy.kind
    if (kind.group, kind.kind) != ("", "Pod"):
        return 0
    spec = obj.get("spec", {})
    if not spec.get("nodeName"):
        return 0  # never ran anywhere: nothing to stop
    if obj.get("status", {}).get("phase") in ("Succeeded", "Failed"):
        return 0
    if opts.grace_period_seconds is not None:
        return opts.grace_period_seconds
    grace = spec.get("terminationGracePeriodSeconds")
    return 30 if grace is None else int(grace)  # an explicit 0 means at once


async def delete(
    service: ResourceService,
    strategy: Strategy,
    namespace: str | None,
    name: str,
    opts: DeleteOptions,
    *,
    gc_running: bool = False,
) -> DeleteResult:
    key = service.key(strategy, namespace, name)
    for _attempt in range(CONFLICT_RETRIES):
        old, revision = await service.read(strategy, namespace, name)
        _check_preconditions(strategy, name, old, revision, opts)
        for plugin in service.admission:
            await plugin("DELETE", strategy, old, old)
        new = copy.deepcopy(old)
        md = new.setdefault("metadata", {})
        finalizers = list(md.get("finalizers") or [])
        if gc_running:
            policy = opts.propagation_policy
            if policy == "Orphan" and ORPHAN not in finalizers:
                finalizers.append(ORPHAN)
            if policy == "Foreground" and FOREGROUND not in finalizers:
                finalizers.append(FOREGROUND)
        grace = _grace_seconds(strategy, old, opts)
        pending = bool(finalizers) or grace > 0
        if strategy.kind.kind == "Namespace" and strategy.kind.group == "":
            pending = pending or bool(new.get("spec", {}).get("finalizers"))
        if not pending:
            if opts.dry_run:
                return DeleteResult(old, True)
            try:
                await service.store.delete(key, new, expected_revision=revision)
            except RevisionMismatch:
                continue
            except KeyNotFound as err:
                raise not_found(strategy.kind.plural, name, strategy.kind.group) from err
            return DeleteResult(new, True)
        if (
            md.get("deletionTimestamp")
            and grace >= int(md.get("deletionGracePeriodSeconds") or 0)
            and set(finalizers) == set(old.get("metadata", {}).get("finalizers") or [])
        ):
            return DeleteResult(old, False)  # already being deleted; nothing to shorten
        md["finalizers"] = finalizers
        md.setdefault("deletionTimestamp", meta.now_rfc3339())
        md["deletionGracePeriodSeconds"] = grace
        if strategy.kind.kind == "Namespace" and strategy.kind.group == "":
            new.setdefault("status", {})["phase"] = "Terminating"
        if opts.dry_run:
            return DeleteResult(new, False)
        try:
            await service.store.update(key, new, expected_revision=revision, prev_obj=old)
        except RevisionMismatch:
            continue
        except KeyNotFound as err:
            raise not_found(strategy.kind.plural, name, strategy.kind.group) from err
        return DeleteResult(new, False)
    raise conflict(strategy.kind.plural, name, strategy.kind.group, "too many concurrent writes; try again")


async def delete_collection(
    service: ResourceService,
    strategy: Strategy,
    namespace: str | None,
    list_opts: ListOptions,
    opts: DeleteOptions,
    *,
    gc_running: bool = False,
) -> list[Obj]:
    """Delete every object the list options select; returns what was deleted (or marked)."""
    found: ListResult = await service.list(strategy, namespace, list_opts)
    objs = found.decoded if found.decoded is not None else [i.decode() for i in found.items]
    out: list[Obj] = []
    for obj in objs:
        md = obj.get("metadata", {})
        try:
            result = await delete(service, strategy, md.get("namespace"), md["name"], opts, gc_running=gc_running)
        except Exception as err:  # already gone since the list: not an error for a collection
            if getattr(err, "code", None) == 404:
                continue
            raise
        out.append(result.obj)
    return out
