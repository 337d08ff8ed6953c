"""Taking over an existing ReplicaSet as the new one: re-syncs, and rollbacks.

`kubectl rollout undo` works client-side: it patches the Deployment's template back to
an old ReplicaSet's template. The controller then finds that ReplicaSet as the one
matching the template and makes it the new one again, instead of creating a copy.
Revisions advance as in Kubernetes: with revisions 1 (template A) and 2 (template B),
undoing to A makes A's ReplicaSet revision 3 with `revision-history: "1"`, and the
Deployment carries revision 3.

The same step runs on every sync for the ReplicaSet that already is new; then nothing
changes unless the Deployment's annotations or `minReadySeconds` did.
"""

from __future__ import annotations

import copy

from edgekube.controllers.deployments.conditions import (
    FOUND_NEW_RS,
    PROGRESSING,
    get_condition,
    new_condition,
    set_condition,
)
from edgekube.controllers.deployments.revisions import REVISION, annotation, set_new_rs_annotations
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.statuses import counter, deadline_seconds
from edgekube.resources.objects import Obj


async def take_over(run: Rollout, rs: Obj, new_revision: int) -> Obj:
    """Stamp `rs` as the new ReplicaSet at `new_revision` (if it is behind) and sync its settings."""
    changed = copy.deepcopy(rs)
    annotated = set_new_rs_annotations(run.deployment, changed, new_revision, exists=True, max_surge=run.surge)
    min_ready = counter(run.deployment, "spec", "minReadySeconds")
    if annotated or counter(changed, "spec", "minReadySeconds") != min_ready:
        spec = changed.setdefault("spec", {})
        if min_ready:
            spec["minReadySeconds"] = min_ready
        else:
            spec.pop("minReadySeconds", None)
        rs = await run.update_replica_set(changed)
    await run.write_revision(annotation(rs, REVISION) or "")
    if deadline_seconds(run.deployment) is not None and get_condition(run.status, PROGRESSING) is None:
        message = f'Found new replica set "{rs["metadata"]["name"]}"'
        set_condition(run.status, new_condition(PROGRESSING, "True", FOUND_NEW_RS, message, run.stamp))
    return rs
