"""`revisionHistoryLimit`: old ReplicaSets kept for rollbacks, and deleting the rest.

Only old ReplicaSets that run nothing are deleted: asked for 0 pods, reporting 0 pods,
and with that request observed (so a scale-down still under way is not cut short). The
lowest revisions go first. ReplicaSets already being deleted count for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgekube.controllers.deployments.revisions import revision_of
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.statuses import counter, spec_replicas
from edgekube.controllers.replicasets.readiness import is_deleting
from edgekube.resources.kinds.workload_causes import as_int
from edgekube.resources.objects import Obj, get_path


def idle(rs: Obj) -> bool:
    return (
        spec_replicas(rs) == 0
        and counter(rs, "status", "replicas") == 0
        and counter(rs, "metadata", "generation") <= counter(rs, "status", "observedGeneration")
    )


def to_delete(olds: Sequence[Obj], limit: int) -> list[Obj]:
    """The old ReplicaSets beyond `limit` that may go, lowest revision first."""
    alive = [rs for rs in olds if not is_deleting(rs)]
    extra = len(alive) - limit
    if extra <= 0:
        return []
    ordered = sorted(alive, key=lambda rs: (revision_of(rs), str(get_path(rs, "metadata", "creationTimestamp") or "")))
    return [rs for rs in ordered[:extra] if idle(rs)]


async def clean_up(run: Rollout, olds: Sequence[Obj]) -> None:
    limit = as_int(get_path(run.deployment, "spec", "revisionHistoryLimit"))
    if limit is None:
        return
    for rs in to_delete([run.current(rs) for rs in olds], limit):
        await run.delete_replica_set(rs)
