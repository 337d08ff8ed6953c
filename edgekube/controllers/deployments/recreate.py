"""Recreate: every old pod goes before any new one starts.

Scale the old ReplicaSets to 0; wait until none of their pods is left running (not
just asked to stop: a pod still terminating still holds its port or its volume); only
then create the new ReplicaSet (at full size) or scale it up. Status after each step.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgekube.controllers.deployments import history, progress
from edgekube.controllers.deployments.replicasets import active, new_and_old
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.statuses import complete, counter
from edgekube.resources.objects import Obj, get_path


async def rollout(run: Rollout) -> None:
    new, olds = await new_and_old(run, create=False)
    if await scale_down_olds(run, active(olds)) or old_pods_running(run, new, olds):
        return await progress.sync_rollout_status(run, new)
    if new is None:
        new, olds = await new_and_old(run, create=True)
        assert new is not None
    await run.scale_and_record(new, run.desired)
    if complete(run.deployment, run.status):
        await history.clean_up(run, olds)
    await progress.sync_rollout_status(run, new)


async def scale_down_olds(run: Rollout, olds: Sequence[Obj]) -> bool:
    scaled = False
    for rs in olds:
        scaled = (await run.scale_and_record(rs, 0))[0] or scaled
    return scaled


def old_pods_running(run: Rollout, new: Obj | None, olds: Sequence[Obj]) -> bool:
    """Whether any pod of an old ReplicaSet may still run (finished pods do not count)."""
    if sum(counter(run.current(rs), "status", "replicas") for rs in olds) > 0:
        return True
    new_uid = get_path(new, "metadata", "uid") if new is not None else None
    for uid, pods in run.pods.items():
        if uid == new_uid:
            continue
        if any(get_path(pod, "status", "phase") not in ("Succeeded", "Failed") for pod in pods):
            return True
    return False
