"""A ReplicaSet's status from its pods: counters, availability after minReadySeconds, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edgekube.controllers.replicasets.readiness import seconds_until_available
from edgekube.controllers.replicasets.statuses import replica_set_status, status_changed
from edgekube.errors import Forbidden
from edgekube.resources.objects import Obj
from tests.unit.controllers.replicasets.objects import pod, replicaset, running

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def rs(replicas: int = 3, min_ready: int = 0, status: Obj | None = None) -> Obj:
    body = replicaset("web", replicas, minReadySeconds=min_ready)
    body["metadata"]["generation"] = 4
    body["status"] = status or {"replicas": 0}
    return body


def ready_pod(name: str, seconds: int, labels: dict[str, str] | None = None) -> Obj:
    return {**pod(name, labels), "status": running(NOW - timedelta(seconds=seconds))}


def test_counters() -> None:
    """Labeled, ready and available pods are counted; zeros are left out; generation observed."""
    pods = [
        ready_pod("a", 100),
        ready_pod("b", 100, labels={"app": "web", "extra": "x"}),
        ready_pod("c", 100, labels={"app": "nope"}),
        {**pod("d"), "status": running(None)},
        pod("e"),
    ]
    status, recheck = replica_set_status(rs(), pods, None, NOW)
    assert status == {
        "replicas": 5,
        "fullyLabeledReplicas": 4,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 4,
    }
    assert recheck is None


def test_min_ready_seconds_and_recheck() -> None:
    """With minReadySeconds 10, pods ready 4 s and 7 s are not yet available; recheck in 3 s."""
    pods = [ready_pod("a", 20), ready_pod("b", 4), ready_pod("c", 7), ready_pod("d", 10)]
    status, recheck = replica_set_status(rs(min_ready=10), pods, None, NOW)
    assert (status["readyReplicas"], status["availableReplicas"]) == (4, 2)
    assert recheck == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("min_ready", "ready_for", "expected"),
    [(0, 0, 0.0), (5, 0, 5.0), (5, 5, 0.0), (5, 6, 0.0), (5, 2, 3.0)],
)
def test_seconds_until_available(min_ready: int, ready_for: int, expected: float) -> None:
    """Available once ready for at least minReadySeconds."""
    assert seconds_until_available(ready_pod("a", ready_for), min_ready, NOW) == pytest.approx(expected)


def test_not_ready_is_never_available() -> None:
    assert seconds_until_available({**pod("a"), "status": running(None)}, 0, NOW) is None


def test_failure_condition_set_kept_and_cleared() -> None:
    """A failed create sets ReplicaFailure/FailedCreate; it stays through later failures; success clears it."""
    error = Forbidden('pods "web-x" is forbidden: exceeded quota')
    status, _ = replica_set_status(rs(replicas=3), [], error, NOW)
    cond = status["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("ReplicaFailure", "True", "FailedCreate")
    assert cond["message"] == error.message
    again, _ = replica_set_status(rs(replicas=3, status=status), [], RuntimeError("other"), NOW)
    assert again["conditions"] == status["conditions"]
    cleared, _ = replica_set_status(rs(replicas=3, status=status), [], None, NOW)
    assert "conditions" not in cleared


def test_failed_delete_reason() -> None:
    """Too many pods and an error: the reason is FailedDelete."""
    status, _ = replica_set_status(rs(replicas=0), [pod("a")], RuntimeError("no"), NOW)
    assert status["conditions"][0]["reason"] == "FailedDelete"


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ({"replicas": 0}, {"replicas": 0}, False),
        ({"replicas": 2, "readyReplicas": 0}, {"replicas": 2}, False),
        ({}, {"replicas": 0}, False),
        ({"replicas": 2}, {"replicas": 2, "readyReplicas": 1}, True),
        ({"replicas": 2, "observedGeneration": 1}, {"replicas": 2, "observedGeneration": 2}, True),
    ],
)
def test_status_changed(old: Obj, new: Obj, changed: bool) -> None:
    """A zero counter equals an absent one; anything else is a change worth writing."""
    assert status_changed(old, new) is changed
