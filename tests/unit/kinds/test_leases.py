"""Lease rules: positive duration, non-negative transitions, the HOLDER column."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.resources.kinds.leases import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 0, 0, 40, tzinfo=UTC)


def _lease(**spec: Any) -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": "pi-1",
            "namespace": "kube-node-lease",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "spec": spec,
    }


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        ({"holderIdentity": "pi-1", "leaseDurationSeconds": 40}, []),
        ({}, []),
        ({"leaseDurationSeconds": 0}, ["spec.leaseDurationSeconds"]),
        ({"leaseDurationSeconds": -5}, ["spec.leaseDurationSeconds"]),
        ({"leaseTransitions": -1}, ["spec.leaseTransitions"]),
        ({"leaseTransitions": 0}, []),
    ],
)
def test_validate(spec: dict[str, Any], fields: list[str]) -> None:
    """A duration, when set, is positive; transitions are never negative."""
    causes = STRATEGY.validate(_lease(**spec))
    assert [c.field for c in causes] == fields
    if fields == ["spec.leaseDurationSeconds"]:
        assert causes[0].message.endswith("must be greater than 0")


@pytest.mark.parametrize(("spec", "holder"), [({"holderIdentity": "pi-1"}, "pi-1"), ({}, "")])
def test_row(spec: dict[str, Any], holder: str) -> None:
    """NAME HOLDER AGE."""
    assert STRATEGY.row(_lease(**spec), NOW) == ["pi-1", holder, "40s"]
    assert [c.name for c in STRATEGY.columns] == ["Name", "Holder", "Age"]
