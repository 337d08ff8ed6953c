"""Revision and replica annotations on a Deployment's ReplicaSets (and on the Deployment).

`kubectl rollout history` lists the ReplicaSets by `deployment.kubernetes.io/revision`;
`kubectl rollout undo` picks one by it. The rules, as Kubernetes keeps them:
  - the new ReplicaSet gets revision max(old revisions) + 1, and the Deployment carries
    the revision of its new ReplicaSet;
  - a ReplicaSet that becomes new again (a rollback) gets the next revision too, and the
    revision it had is appended to `deployment.kubernetes.io/revision-history`
    (comma separated, oldest entries dropped past 2000 characters);
  - the Deployment's own annotations are copied to its new ReplicaSet (so a
    `kubernetes.io/change-cause` shows in the history), except the controller's ones
    and kubectl's last-applied configuration;
  - `desired-replicas` and `max-replicas` (replicas + maxSurge) record the size the
    Deployment had when it last sized the ReplicaSet, which proportional scaling and
    the detection of a scaling event read back.
"""

from __future__ import annotations

from collections.abc import Iterable

from edgekube.resources.kinds.workload_causes import mapping
from edgekube.resources.objects import Obj, ensure_dict, get_path

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
NOT_COPIED = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"}
)
HISTORY_LIMIT_CHARS = 2000


def annotation(obj: Obj, key: str) -> str | None:
    value = mapping(get_path(obj, "metadata", "annotations")).get(key)
    return value if isinstance(value, str) else None


def int_annotation(obj: Obj, key: str) -> int | None:
    value = annotation(obj, key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def revision_of(obj: Obj) -> int:
    """The object's revision; 0 when it has none (or an unreadable one)."""
    return int_annotation(obj, REVISION) or 0


def max_revision(replica_sets: Iterable[Obj]) -> int:
    return max((revision_of(rs) for rs in replica_sets), default=0)


def _set(obj: Obj, key: str, value: str) -> bool:
    annotations = ensure_dict(obj, "metadata", "annotations")
    if annotations.get(key) == value:
        return False
    annotations[key] = value
    return True


def copy_deployment_annotations(deployment: Obj, rs: Obj) -> bool:
    """Copy the Deployment's own annotations onto `rs`; whether anything changed."""
    changed = False
    for key, value in mapping(get_path(deployment, "metadata", "annotations")).items():
        if key not in NOT_COPIED and isinstance(value, str):
            changed = _set(rs, key, value) or changed
    return changed


def append_history(history: str, revision: str, limit: int = HISTORY_LIMIT_CHARS) -> str | None:
    """`history` with `revision` appended, oldest entries dropped to fit `limit`; None if it cannot fit.

    Worked example: "1,3" + "5" -> "1,3,5"; with limit 4 the oldest goes: "3,5".
    """
    entries = [e for e in history.split(",") if e]
    while entries and len(",".join([*entries, revision])) > limit:
        entries.pop(0)
    joined = ",".join([*entries, revision])
    return joined if len(joined) <= limit else None


def set_new_rs_annotations(deployment: Obj, rs: Obj, new_revision: int, *, exists: bool, max_surge: int) -> bool:
    """Stamp `rs` as the Deployment's new ReplicaSet at `new_revision`; whether anything changed.

    A ReplicaSet already at or past `new_revision` keeps its revision (it already is the
    newest); one below it moves its old revision to the history.
    """
    changed = copy_deployment_annotations(deployment, rs)
    old = annotation(rs, REVISION) or None
    old_number = int_annotation(rs, REVISION)
    if old is not None and old_number is None:
        return changed  # not a number: leave it alone rather than guess
    if (old_number or 0) < new_revision:
        changed = _set(rs, REVISION, str(new_revision)) or changed
        if old is not None:
            history = append_history(annotation(rs, REVISION_HISTORY) or "", old)
            if history is not None:
                changed = _set(rs, REVISION_HISTORY, history) or changed
    if not exists:
        replicas = desired_of(deployment)
        changed = set_replicas_annotations(rs, replicas, replicas + max_surge) or changed
    return changed


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    changed = _set(rs, DESIRED_REPLICAS, str(desired))
    return _set(rs, MAX_REPLICAS, str(maximum)) or changed


def set_deployment_revision(deployment: Obj, revision: str) -> bool:
    return _set(deployment, REVISION, revision)


def desired_of(deployment: Obj) -> int:
    value = get_path(deployment, "spec", "replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1
