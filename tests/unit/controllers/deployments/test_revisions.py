"""Revision annotations: next revision for the new ReplicaSet, history on rollback, replica sizes."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.controllers.deployments.revisions import (
    DESIRED_REPLICAS,
    LAST_APPLIED,
    MAX_REPLICAS,
    REVISION,
    REVISION_HISTORY,
    append_history,
    max_revision,
    set_new_rs_annotations,
)
from edgekube.resources.objects import Obj


def deployment(**annotations: str) -> Obj:
    return {"metadata": {"annotations": dict(annotations)}, "spec": {"replicas": 4}}


def rs(**annotations: str) -> Obj:
    return {"metadata": {"annotations": dict(annotations)} if annotations else {}}


def annotations_of(obj: Obj) -> dict[str, Any]:
    return dict(obj["metadata"].get("annotations") or {})


def test_new_replica_set() -> None:
    """A new ReplicaSet: the revision, the Deployment's own annotations, and the sizes."""
    d = deployment(**{"kubernetes.io/change-cause": "v2", LAST_APPLIED: "{}", REVISION: "1"})
    new = rs()
    assert set_new_rs_annotations(d, new, 2, exists=False, max_surge=1)
    assert annotations_of(new) == {
        "kubernetes.io/change-cause": "v2",
        REVISION: "2",
        DESIRED_REPLICAS: "4",
        MAX_REPLICAS: "5",
    }


def test_current_replica_set_is_left_alone() -> None:
    """Already the newest (revision 3, olds up to 2): nothing changes, nothing to write."""
    current = rs(**{REVISION: "3"})
    assert not set_new_rs_annotations(deployment(), current, 3, exists=True, max_surge=1)
    assert annotations_of(current) == {REVISION: "3"}


def test_rollback_moves_the_old_revision_to_history() -> None:
    """Revision 1 becomes new again after 2: it gets 3, and history "1"; then "1,3" after 4."""
    reused = rs(**{REVISION: "1"})
    assert set_new_rs_annotations(deployment(), reused, 3, exists=True, max_surge=1)
    assert annotations_of(reused) == {REVISION: "3", REVISION_HISTORY: "1"}
    assert set_new_rs_annotations(deployment(), reused, 5, exists=True, max_surge=1)
    assert annotations_of(reused) == {REVISION: "5", REVISION_HISTORY: "1,3"}


def test_unreadable_revision_is_not_touched() -> None:
    odd = rs(**{REVISION: "seven"})
    set_new_rs_annotations(deployment(), odd, 3, exists=True, max_surge=1)
    assert annotations_of(odd)[REVISION] == "seven"


@pytest.mark.parametrize(
    ("history", "revision", "limit", "expected"),
    [
        ("", "1", 2000, "1"),
        ("1,3", "5", 2000, "1,3,5"),
        ("1,3", "5", 4, "3,5"),
        ("1,3", "5", 1, "5"),
        ("10", "12345", 3, None),
    ],
)
def test_append_history(history: str, revision: str, limit: int, expected: str | None) -> None:
    """Oldest entries give way to keep the history under its length limit."""
    assert append_history(history, revision, limit) == expected


def test_max_revision_ignores_missing_and_unreadable() -> None:
    assert max_revision([rs(**{REVISION: "2"}), rs(), rs(**{REVISION: "x"}), rs(**{REVISION: "11"})]) == 11
    assert max_revision([]) == 0
