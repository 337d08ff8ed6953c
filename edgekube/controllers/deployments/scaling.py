"""Scaling: `spec.replicas` changed (or the Deployment is paused), so resize, do not roll.

A scaling event is when an active ReplicaSet was sized for another `replicas` (its
`desired-replicas` annotation). Then:
  - with one active ReplicaSet (or none: the newest), it takes the new size;
  - with a new ReplicaSet that is saturated (full and available), the old ones go to 0;
  - otherwise, mid-rollout, every active ReplicaSet takes its share (`proportions`).
A paused Deployment takes this path on every sync, and also trims its history.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgekube.controllers.deployments import history, progress
from edgekube.controllers.deployments.proportions import Share, proportional_sizes
from edgekube.controllers.deployments.replicasets import active, by_creation, new_and_old
from edgekube.controllers.deployments.revisions import DESIRED_REPLICAS, MAX_REPLICAS, int_annotation
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.sizing import ROLLING
from edgekube.controllers.deployments.statuses import counter, spec_replicas
from edgekube.resources.objects import Obj, get_path


async def is_scaling_event(run: Rollout) -> bool:
    new, olds = await new_and_old(run, create=False)
    for rs in active([*olds, new]):
        desired = int_annotation(rs, DESIRED_REPLICAS)
        if desired is not None and desired != run.desired:
            return True
    return False


async def sync(run: Rollout) -> None:
    """Resize to `replicas` without rolling out; trim history when paused; write status."""
    new, olds = await new_and_old(run, create=False)
    await scale(run, new, olds)
    if get_path(run.deployment, "spec", "paused"):
        await history.clean_up(run, olds)
    await progress.sync_status(run, new)


def active_or_latest(new: Obj | None, olds: Sequence[Obj]) -> Obj | None:
    """The only active ReplicaSet, or the newest when none is active; None when several are."""
    newest_first = list(reversed(by_creation(olds)))
    running = active([*newest_first, new])
    if len(running) == 1:
        return running[0]
    if running:
        return None
    return new if new is not None else (newest_first[0] if newest_first else None)


def saturated(rs: Obj, desired: int) -> bool:
    """Sized for `desired` replicas, and all of them available."""
    return (
        spec_replicas(rs) == desired
        and int_annotation(rs, DESIRED_REPLICAS) == desired
        and counter(rs, "status", "availableReplicas") == desired
    )


def scaling_order(replica_sets: Sequence[Obj], growing: bool) -> list[Obj]:
    """Largest first; among equals the newest first when growing, the oldest when shrinking."""
    oldest_first = by_creation(replica_sets)
    ranked = list(enumerate(oldest_first))
    ranked.sort(key=lambda pair: (-spec_replicas(pair[1]), -pair[0] if growing else pair[0]))
    return [rs for _, rs in ranked]


async def scale(run: Rollout, new: Obj | None, olds: Sequence[Obj]) -> None:
    only = active_or_latest(new, olds)
    if only is not None:
        await run.scale_and_record(only, run.desired)
        return
    if new is not None and saturated(run.current(new), run.desired):
        for old in active(olds):
            await run.scale_and_record(old, 0)
        return
    if run.strategy != ROLLING:
        return
    running = active([run.current(rs) for rs in [*olds, *([new] if new is not None else [])]])
    allowed = run.desired + run.surge if run.desired > 0 else 0
    to_add = allowed - sum(spec_replicas(rs) for rs in running)
    ordered = scaling_order(running, growing=to_add > 0)
    shares = [Share(spec_replicas(rs), int_annotation(rs, MAX_REPLICAS)) for rs in ordered]
    fallback = counter(run.deployment, "status", "replicas")
    sizes = proportional_sizes(shares, run.desired, run.surge, fallback)
    operation = "up" if to_add > 0 else "down" if to_add < 0 else ""
    for rs, size in zip(ordered, sizes, strict=True):
        await run.scale(rs, size, operation)
