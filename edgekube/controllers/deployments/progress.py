"""Deployment status and the Progressing condition: done, progressing, paused or stuck.

After each rollout step the status is recomputed from the ReplicaSets, and the
Progressing condition tells `kubectl rollout status` where things stand:
  - complete (every replica updated and available): True, NewReplicaSetAvailable,
    `ReplicaSet "web-5d4f7c" has successfully progressed.`;
  - progress seen since the last status: True, ReplicaSetUpdated (the deadline clock
    restarts: `lastUpdateTime` moves, `lastTransitionTime` stays);
  - no progress for `progressDeadlineSeconds`: False, ProgressDeadlineExceeded (kept
    until the next rollout); the sync requeues itself for the moment that happens.
Pausing and resuming show as Progressing Unknown, DeploymentPaused / DeploymentResumed.
A ReplicaSet's ReplicaFailure condition (the new one's first) is mirrored.
"""

from __future__ import annotations

from edgekube.controllers.deployments.conditions import (
    NEW_RS_AVAILABLE,
    PAUSED,
    PROGRESSING,
    REPLICA_FAILURE,
    RESUMED,
    RS_UPDATED,
    TIMED_OUT,
    conditions_of,
    get_condition,
    new_condition,
    remove_condition,
    set_condition,
)
from edgekube.controllers.deployments.replicasets import new_and_old
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.statuses import (
    calculate_status,
    complete,
    counter,
    deadline_seconds,
    progressing,
    seconds_to_deadline,
    timed_out,
)
from edgekube.controllers.running import Requeue
from edgekube.resources.objects import Obj, get_path

DEADLINE_MARGIN = 0.05  # seconds past the deadline, so the requeued sync surely sees it passed


def check_paused(run: Rollout) -> None:
    """Show a pause or a resume in the Progressing condition (written with the status)."""
    if deadline_seconds(run.deployment) is None:
        return
    cond = get_condition(run.status, PROGRESSING)
    if cond is not None and cond.get("reason") == TIMED_OUT:
        return  # a reported lack of progress stays visible
    shown = cond is not None and cond.get("reason") == PAUSED
    paused = bool(get_path(run.deployment, "spec", "paused"))
    if paused and not shown:
        set_condition(run.status, new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused", run.stamp))
    elif not paused and shown:
        set_condition(run.status, new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed", run.stamp))


async def status_only(run: Rollout) -> None:
    """For a Deployment being deleted: keep the status current, change nothing else."""
    new, _ = await new_and_old(run, create=False)
    await sync_status(run, new)


async def sync_status(run: Rollout, new: Obj | None) -> None:
    """The status from the ReplicaSets, no rollout conditions (paused and scaling syncs)."""
    new = run.current(new) if new is not None else None
    await run.write_status(calculate_status(run.deployment, run.replica_sets, new, run.stamp))


async def sync_rollout_status(run: Rollout, new: Obj | None) -> None:
    """The status with the Progressing condition brought up to date; requeue for the deadline."""
    d = run.deployment
    new = run.current(new) if new is not None else None
    status = calculate_status(d, run.replica_sets, new, run.stamp)
    if deadline_seconds(d) is None:
        remove_condition(status, PROGRESSING)
    else:
        _progress(run, status, new)
    failure = _replica_failure(run, new)
    if failure is not None:
        set_condition(status, failure)
    else:
        remove_condition(status, REPLICA_FAILURE)
    await run.write_status(status)
    _requeue_if_stuck(run, status)


def _progress(run: Rollout, status: Obj, new: Obj | None) -> None:
    d = run.deployment
    current = get_condition(run.status, PROGRESSING)
    done_before = (
        counter(status, "replicas") == counter(status, "updatedReplicas")
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    if done_before:
        return
    subject = f'ReplicaSet "{new["metadata"]["name"]}"' if new is not None else f'Deployment "{run.name}"'
    if complete(d, status):
        cond = new_condition(
            PROGRESSING, "True", NEW_RS_AVAILABLE, f"{subject} has successfully progressed.", run.stamp
        )
        set_condition(status, cond)
    elif progressing(d, status):
        cond = new_condition(PROGRESSING, "True", RS_UPDATED, f"{subject} is progressing.", run.stamp)
        # Unlike other conditions, this one is rewritten for the same reason: its
        # lastUpdateTime is when progress was last seen, which the deadline counts from.
        if current is not None and current.get("status") == "True":
            cond["lastTransitionTime"] = current.get("lastTransitionTime")
        remove_condition(status, PROGRESSING)
        set_condition(status, cond)
    elif timed_out(d, status, run.now):
        cond = new_condition(PROGRESSING, "False", TIMED_OUT, f"{subject} has timed out progressing.", run.stamp)
        set_condition(status, cond)


def _replica_failure(run: Rollout, new: Obj | None) -> Obj | None:
    """The ReplicaFailure of the new ReplicaSet, else of any other, as a Deployment condition."""
    ordered = ([new] if new is not None else []) + run.replica_sets
    for rs in ordered:
        for cond in conditions_of(rs.get("status") or {}):
            if cond.get("type") == REPLICA_FAILURE:
                when = cond.get("lastTransitionTime")
                return {
                    "type": REPLICA_FAILURE,
                    "status": cond.get("status"),
                    "lastUpdateTime": when,
                    "lastTransitionTime": when,
                    "reason": cond.get("reason"),
                    "message": cond.get("message"),
                }
    return None


def _requeue_if_stuck(run: Rollout, status: Obj) -> None:
    """Come back when the deadline passes, unless done or already past it."""
    if complete(run.deployment, status):
        return
    left = seconds_to_deadline(run.deployment, status, run.now)
    if left is not None:
        raise Requeue(max(left, 0.0) + DEADLINE_MARGIN)
