"""RollingUpdate: grow the new ReplicaSet and shrink the old ones within maxSurge/maxUnavailable.

Each sync takes at most one kind of step, then writes status (the next event brings
the next sync): grow the new ReplicaSet as far as the surge allows; else remove old
pods, unavailable ones first, as far as availability allows; else, when the rollout is
complete, trim the history. The arithmetic, with a worked example, is in `sizing`.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgekube.controllers.deployments import history, progress
from edgekube.controllers.deployments.replicasets import active, by_creation, new_and_old, pods_upper_bound
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.sizing import (
    clean_up_unhealthy,
    new_rs_replicas,
    old_scale_down_budget,
    scale_down_old,
)
from edgekube.controllers.deployments.statuses import complete, counter, spec_replicas
from edgekube.resources.objects import Obj


async def rollout(run: Rollout) -> None:
    new, olds = await new_and_old(run, create=True)
    assert new is not None  # created when missing
    if await reconcile_new(run, new) or await reconcile_old(run, new, olds):
        return await progress.sync_rollout_status(run, new)
    if complete(run.deployment, run.status):
        await history.clean_up(run, olds)
    await progress.sync_rollout_status(run, new)


async def reconcile_new(run: Rollout, new: Obj) -> bool:
    """Grow (or, past `replicas`, shrink) the new ReplicaSet; whether it changed."""
    size = spec_replicas(run.current(new))
    if size == run.desired:
        return False
    if size > run.desired:
        return (await run.scale_and_record(new, run.desired))[0]
    target = new_rs_replicas(run.desired, run.surge, pods_upper_bound(run.replica_sets), size)
    return (await run.scale_and_record(new, target))[0]


async def reconcile_old(run: Rollout, new: Obj, olds: Sequence[Obj]) -> bool:
    """Shrink old ReplicaSets as availability allows; whether any changed."""
    olds = by_creation(active(run.current(rs) for rs in olds))
    if not olds:
        return False
    new = run.current(new)
    total = sum(spec_replicas(rs) for rs in [*olds, new])
    budget = old_scale_down_budget(
        total, run.desired, run.unavailable, spec_replicas(new), counter(new, "status", "availableReplicas")
    )
    if budget <= 0:
        return False
    healthy_sizes = clean_up_unhealthy(
        [(spec_replicas(rs), counter(rs, "status", "availableReplicas")) for rs in olds], budget
    )
    cleaned = await _resize(run, olds, healthy_sizes)
    olds = [run.current(rs) for rs in olds]
    available = sum(counter(rs, "status", "availableReplicas") for rs in [*olds, new])
    min_available = run.desired - run.unavailable
    sizes = scale_down_old([spec_replicas(rs) for rs in olds], available, min_available, budget - cleaned)
    return cleaned + await _resize(run, olds, sizes) > 0


async def _resize(run: Rollout, replica_sets: Sequence[Obj], sizes: Sequence[int]) -> int:
    """Scale each ReplicaSet to its size; the pods removed in all."""
    removed = 0
    for rs, size in zip(replica_sets, sizes, strict=True):
        before = spec_replicas(rs)
        if size != before:
            await run.scale_and_record(rs, size)
            removed += before - size
    return removed
