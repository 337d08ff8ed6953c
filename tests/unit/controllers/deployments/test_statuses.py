"""Deployment status and conditions: counters, Available, complete, progressing, timed out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edgekube.controllers.deployments.conditions import new_condition, set_condition
from edgekube.controllers.deployments.statuses import (
    calculate_status,
    complete,
    progressing,
    seconds_to_deadline,
    timed_out,
)
from edgekube.resources.objects import Obj
from edgekube.resources.times import format_time

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def deployment(replicas: int = 3, status: Obj | None = None, generation: int = 2, deadline: int = 600) -> Obj:
    return {
        "metadata": {"generation": generation},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": deadline,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
        },
        "status": status or {},
    }


def rs(spec: int, replicas: int = 0, ready: int = 0, available: int = 0) -> Obj:
    status = {"replicas": replicas, "readyReplicas": ready, "availableReplicas": available}
    return {"spec": {"replicas": spec}, "status": status}


def test_counters_and_available() -> None:
    """Counters add up the ReplicaSets; updated is the new one's; 2 of 3 available is enough (maxUnavailable 1)."""
    new, old = rs(2, 2, 2, 1), rs(1, 2, 2, 1)
    status = calculate_status(deployment(status={"collisionCount": 1}), [old, new], new, "t")
    conditions = status.pop("conditions")
    assert status == {
        "observedGeneration": 2,
        "replicas": 4,
        "updatedReplicas": 2,
        "readyReplicas": 4,
        "availableReplicas": 2,
        "unavailableReplicas": 1,
        "collisionCount": 1,
    }
    assert [(c["type"], c["status"], c["reason"]) for c in conditions] == [
        ("Available", "True", "MinimumReplicasAvailable")
    ]


def test_unavailable_below_the_minimum() -> None:
    status = calculate_status(deployment(), [rs(3, 3, 1, 1)], None, "t")
    cond = status["conditions"][0]
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    )


def test_set_condition_keeps_equal_and_transition_time() -> None:
    """Same status and reason: untouched. Same status, new reason: lastTransitionTime kept."""
    status: Obj = {}
    set_condition(status, new_condition("Progressing", "True", "A", "m", "t1"))
    set_condition(status, new_condition("Progressing", "True", "A", "other", "t2"))
    assert status["conditions"][0]["lastUpdateTime"] == "t1"
    set_condition(status, new_condition("Progressing", "True", "B", "m", "t3"))
    assert (status["conditions"][0]["lastTransitionTime"], status["conditions"][0]["lastUpdateTime"]) == ("t1", "t3")
    set_condition(status, new_condition("Progressing", "False", "C", "m", "t4"))
    assert status["conditions"][0]["lastTransitionTime"] == "t4"


COMPLETE = [
    ("all there", {"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 2}, True),
    ("old pods left", {"updatedReplicas": 3, "replicas": 4, "availableReplicas": 3, "observedGeneration": 2}, False),
    ("not available", {"updatedReplicas": 3, "replicas": 3, "availableReplicas": 2, "observedGeneration": 2}, False),
    ("older generation", {"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 1}, False),
]


@pytest.mark.parametrize(("status", "expected"), [c[1:] for c in COMPLETE], ids=[c[0] for c in COMPLETE])
def test_complete(status: Obj, expected: bool) -> None:
    assert complete(deployment(), status) is expected


PROGRESS = [
    ("more updated", {"updatedReplicas": 2}, True),
    ("fewer old", {"replicas": 3, "updatedReplicas": 1}, True),
    ("more ready", {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 3}, True),
    ("more available", {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}, True),
    ("same", {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 1}, False),
]


@pytest.mark.parametrize(("status", "expected"), [c[1:] for c in PROGRESS], ids=[c[0] for c in PROGRESS])
def test_progressing(status: Obj, expected: bool) -> None:
    """Progress: more updated, fewer old, more ready or more available pods than last time."""
    before = {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 1}
    assert progressing(deployment(status=before), status) is expected


def progressing_since(seconds: int, reason: str = "ReplicaSetUpdated") -> Any:
    when = format_time(NOW - timedelta(seconds=seconds))
    return {"conditions": [{"type": "Progressing", "status": "True", "reason": reason, "lastUpdateTime": when}]}


@pytest.mark.parametrize(
    ("status", "deadline", "left", "out"),
    [
        (progressing_since(30), 60, 30.0, False),
        (progressing_since(61), 60, -1.0, True),
        (progressing_since(61, "NewReplicaSetAvailable"), 60, None, False),  # done: no deadline
        (progressing_since(10, "ProgressDeadlineExceeded"), 60, None, True),  # stays timed out
        (progressing_since(900), 2**31 - 1, None, False),  # "never"
        ({}, 60, None, False),
    ],
)
def test_deadline(status: Obj, deadline: int, left: float | None, out: bool) -> None:
    """The deadline counts from the Progressing condition's lastUpdateTime."""
    d = deployment(deadline=deadline)
    assert seconds_to_deadline(d, status, NOW) == left
    assert timed_out(d, status, NOW) is out
