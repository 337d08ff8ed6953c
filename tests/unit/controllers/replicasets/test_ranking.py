"""Which pods go first when a ReplicaSet has too many: the least valuable, in Kubernetes' order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edgekube.controllers.replicasets.ranking import DELETION_COST, pods_to_delete
from edgekube.resources.objects import Obj
from edgekube.resources.times import format_time

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def pod(
    name: str,
    *,
    node: str = "n1",
    phase: str = "Running",
    ready_for: int | None = 60,
    restarts: int = 0,
    age: int = 600,
    cost: str | None = None,
) -> Obj:
    status: dict[str, Any] = {"phase": phase, "containerStatuses": [{"name": "c", "restartCount": restarts}]}
    if ready_for is not None:
        since = format_time(T0 - timedelta(seconds=ready_for))
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": since}]
    meta: dict[str, Any] = {"name": name, "creationTimestamp": format_time(T0 - timedelta(seconds=age))}
    if cost is not None:
        meta["annotations"] = {DELETION_COST: cost}
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}, "status": status}


# (first, then): `first` is deleted before `then`; every other attribute is equal.
ORDER = [
    ("unassigned before assigned", pod("a", node=""), pod("b")),
    ("pending before running", pod("a", phase="Pending", ready_for=None), pod("b", ready_for=None)),
    ("pending before unknown", pod("a", phase="Pending"), pod("b", phase="Unknown")),
    ("unknown before running", pod("a", phase="Unknown"), pod("b")),
    ("not ready before ready", pod("a", ready_for=None), pod("b")),
    ("lower deletion cost first", pod("a", cost="-5"), pod("b")),
    ("deletion cost beats readiness time", pod("a", cost="1", ready_for=10), pod("b", cost="10", ready_for=5)),
    ("ready for less time first", pod("a", ready_for=5), pod("b", ready_for=500)),
    ("more restarts first", pod("a", restarts=3), pod("b", restarts=1)),
    ("newer first", pod("a", age=10), pod("b", age=1000)),
    ("name breaks a full tie", pod("a"), pod("b")),
    ("assignment beats phase", pod("a", node="", phase="Running"), pod("b", phase="Pending", ready_for=None)),
    ("readiness beats restarts", pod("a", ready_for=None, restarts=0), pod("b", restarts=9)),
    ("readiness time beats restarts", pod("a", ready_for=5, restarts=0), pod("b", ready_for=50, restarts=9)),
]


@pytest.mark.parametrize(("first", "then"), [(f, t) for _, f, t in ORDER], ids=[i for i, _, _ in ORDER])
def test_order(first: Obj, then: Obj) -> None:
    """The less valuable pod is picked, whichever order the pods come in."""
    first["metadata"]["name"], then["metadata"]["name"] = "a", "b"
    assert pods_to_delete([then, first], 1) == [first]
    assert pods_to_delete([first, then], 1) == [first]


def test_picks_the_count_least_valuable_in_order() -> None:
    """Three of five go: unassigned, then not ready, then the one ready for the least time."""
    pods = [
        pod("old-ready", ready_for=900),
        pod("fresh-ready", ready_for=3),
        pod("unready", ready_for=None),
        pod("mid-ready", ready_for=100),
        pod("unassigned", node=""),
    ]
    chosen = [p["metadata"]["name"] for p in pods_to_delete(pods, 3)]
    assert chosen == ["unassigned", "unready", "fresh-ready"]


def test_zero_or_more_than_all() -> None:
    """Asking for none gives none; asking for more than there are gives them all."""
    pods = [pod("a"), pod("b")]
    assert pods_to_delete(pods, 0) == []
    assert len(pods_to_delete(pods, 5)) == 2
