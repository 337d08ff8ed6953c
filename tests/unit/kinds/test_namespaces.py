"""Namespace rules: label names, the kubernetes finalizer, phases, table and field selectors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.namespaces import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 3, tzinfo=UTC)


def _ns(name: str = "team-a", **extra: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "creationTimestamp": "2024-01-01T00:00:00Z"},
        **extra,
    }


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


@pytest.mark.parametrize(
    ("spec", "finalizers"),
    [
        (None, ["kubernetes"]),
        ({"finalizers": ["example.com/cleanup"]}, ["example.com/cleanup", "kubernetes"]),
        ({"finalizers": ["kubernetes"]}, ["kubernetes"]),
    ],
)
def test_create_adds_kubernetes_finalizer(spec: Obj | None, finalizers: list[str]) -> None:
    """A new namespace always carries the kubernetes finalizer, after any of its own."""
    obj = _ns()
    if spec is not None:
        obj["spec"] = spec
    created, causes = _create(obj)
    assert causes == []
    assert created["spec"]["finalizers"] == finalizers


def test_create_starts_active_and_labels_name() -> None:
    """Status starts Active whatever the client sent, and the name label is stamped."""
    created, _ = _create(_ns(status={"phase": "Terminating"}))
    assert created["status"] == {"phase": "Active"}
    assert created["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        (_ns("team.a"), "metadata.name", "RFC 1123 label"),
        (_ns("Team"), "metadata.name", "RFC 1123 label"),
        (_ns(spec={"finalizers": ["custom"]}), "spec.finalizers[0]",
         "name is neither a standard finalizer name nor is it fully qualified"),
        (_ns(spec={"finalizers": ["example.com/-bad"]}), "spec.finalizers[0]", "name part"),
    ],
)
def test_invalid(obj: Obj, field: str, message: str) -> None:
    """Names are DNS labels; finalizers are standard or domain-qualified."""
    _, causes = _create(obj)
    assert any(c.field == field and message in c.message for c in causes), causes


@pytest.mark.parametrize(
    ("deleting", "phase", "ok"),
    [
        (False, "Active", True),
        (False, "Terminating", False),
        (True, "Terminating", True),
        (True, "Active", False),
    ],
)
def test_status_phase_follows_deletion(deleting: bool, phase: str, ok: bool) -> None:
    """Terminating exactly when deletion has begun."""
    old, _ = _create(_ns())
    if deleting:
        old["metadata"]["deletionTimestamp"] = "2024-01-02T00:00:00Z"
    new = copy.deepcopy(old)
    new["status"] = {"phase": phase}
    causes = STRATEGY.validate_status_update(new, old)
    assert (causes == []) == ok
    assert all(c.field == "status.phase" for c in causes)


def test_row_and_field_values() -> None:
    """NAME STATUS AGE, and status.phase as a field selector."""
    created, _ = _create(_ns())
    assert STRATEGY.row(created, NOW) == ["team-a", "Active", "2d"]
    assert [c.name for c in STRATEGY.columns] == ["Name", "Status", "Age"]
    assert STRATEGY.field_values(created)["status.phase"] == "Active"
