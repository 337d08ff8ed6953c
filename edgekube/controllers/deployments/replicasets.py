"""A Deployment's ReplicaSets: which one is new, which are old, and getting the new one.

The new ReplicaSet is the oldest one whose template equals the Deployment's (ignoring
the hash label); every other is old. Getting the new one either takes over the one
found (`rollback`: it gets the next revision if it is not the newest already) or, when
asked to, creates `<deployment>-<hash>` sized for the strategy. If that name is taken
by a ReplicaSet that is not this template's, the Deployment's `collisionCount` goes up
(so the next hash differs) and the sync fails to run again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from edgekube.controllers.deployments import rollback
from edgekube.controllers.deployments.conditions import (
    FAILED_RS_CREATE,
    NEW_RS_CREATED,
    PROGRESSING,
    new_condition,
    set_condition,
)
from edgekube.controllers.deployments.hashing import HASH_LABEL, equal_ignoring_hash, template_hash
from edgekube.controllers.deployments.revisions import max_revision, set_new_rs_annotations
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.sizing import RECREATE, new_rs_replicas
from edgekube.controllers.deployments.statuses import counter, deadline_seconds, spec_replicas
from edgekube.controllers.replicasets.claiming import controlled_by, owner_reference
from edgekube.errors import AlreadyExists, ApiError, NotFound
from edgekube.resources.objects import Obj, ensure_dict, get_path


def by_creation(replica_sets: Iterable[Obj]) -> list[Obj]:
    """Oldest first; the name breaks ties (timestamps have whole seconds)."""
    return sorted(
        replica_sets,
        key=lambda rs: (str(get_path(rs, "metadata", "creationTimestamp") or ""), str(rs["metadata"].get("name"))),
    )


def active(replica_sets: Iterable[Obj | None]) -> list[Obj]:
    """The ReplicaSets asked to run pods."""
    return [rs for rs in replica_sets if rs is not None and spec_replicas(rs) > 0]


def find_new(deployment: Obj, replica_sets: Iterable[Obj]) -> Obj | None:
    template = get_path(deployment, "spec", "template")
    for rs in by_creation(replica_sets):
        if equal_ignoring_hash(get_path(rs, "spec", "template"), template):
            return rs
    return None


def pods_upper_bound(replica_sets: Iterable[Obj]) -> int:
    """How many pods the ReplicaSets may have right now, at most.

    Kubernetes counts `spec.replicas` only; a ReplicaSet just told to shrink still has
    its pods until its controller deletes them (and then reports the lower count), so
    counting the larger of spec and status keeps a rollout from surging past maxSurge
    while the old pods are on their way out.
    """
    return sum(max(spec_replicas(rs), counter(rs, "status", "replicas")) for rs in replica_sets)


async def new_and_old(run: Rollout, *, create: bool) -> tuple[Obj | None, list[Obj]]:
    """The new ReplicaSet (taken over, or created if `create`), and the old ones."""
    new = find_new(run.deployment, run.replica_sets)
    new_uid = get_path(new, "metadata", "uid")
    olds = [rs for rs in run.replica_sets if get_path(rs, "metadata", "uid") != new_uid]
    next_revision = max_revision(olds) + 1
    if new is not None:
        return await rollback.take_over(run, new, next_revision), olds
    if not create:
        return None, olds
    return await _create(run, olds, next_revision), olds


def _body(run: Rollout, olds: list[Obj], revision: int) -> Obj:
    d = run.deployment
    spec = d.get("spec") or {}
    collisions = counter(d, "status", "collisionCount") or None
    pod_hash = template_hash(spec.get("template"), collisions)
    template = copy.deepcopy(spec.get("template") or {})
    ensure_dict(template, "metadata", "labels")[HASH_LABEL] = pod_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    ensure_dict(selector, "matchLabels")[HASH_LABEL] = pod_hash
    if run.strategy == RECREATE:
        replicas = run.desired
    else:
        replicas = new_rs_replicas(run.desired, run.surge, pods_upper_bound(olds), 0)
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{run.name}-{pod_hash}",
            "namespace": run.namespace,
            "labels": copy.deepcopy(template["metadata"]["labels"]),
            "ownerReferences": [owner_reference(d)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
    }
    min_ready = counter(d, "spec", "minReadySeconds")
    if min_ready:
        body["spec"]["minReadySeconds"] = min_ready
    set_new_rs_annotations(d, body, revision, exists=False, max_surge=run.surge)
    return body


async def _create(run: Rollout, olds: list[Obj], revision: int) -> Obj:
    body = _body(run, olds, revision)
    name = body["metadata"]["name"]
    try:
        created = await run.create_replica_set(body)
    except AlreadyExists:
        created = await _ours_already(run, name)
    except ApiError as err:
        await _failed(run, name, err)
        raise
    else:
        if spec_replicas(created) > 0:
            run.record_scaled_up(created)
    if deadline_seconds(run.deployment) is not None:
        message = f'Created new replica set "{name}"'
        set_condition(run.status, new_condition(PROGRESSING, "True", NEW_RS_CREATED, message, run.stamp))
    await run.write_revision(str(revision))
    return created


async def _ours_already(run: Rollout, name: str) -> Obj:
    """The ReplicaSet named like ours: ours (the cache is behind), or a collision."""
    try:
        existing, _ = await run.service.read(run.replica_set_kind, run.namespace, name)
    except NotFound:
        existing = None
    uid = str(get_path(run.deployment, "metadata", "uid"))
    template = get_path(run.deployment, "spec", "template")
    if (
        existing is not None
        and controlled_by(existing, uid)
        and equal_ignoring_hash(get_path(existing, "spec", "template"), template)
    ):
        run.replica_sets.append(existing)
        return existing
    status = copy.deepcopy(run.status)
    status["collisionCount"] = counter(status, "collisionCount") + 1
    await run.write_status(status)
    raise AlreadyExists(
        f'replica set "{name}" exists with another template; collisionCount is now {status["collisionCount"]}'
    )


async def _failed(run: Rollout, name: str, err: ApiError) -> None:
    message = f'Failed to create new replica set "{name}": {err.message}'
    run.event("Warning", FAILED_RS_CREATE, message)
    if deadline_seconds(run.deployment) is not None:
        status = copy.deepcopy(run.status)
        set_condition(status, new_condition(PROGRESSING, "False", FAILED_RS_CREATE, message, run.stamp))
        await run.write_status(status)
