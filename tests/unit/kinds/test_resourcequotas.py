"""ResourceQuota rules: quota names and amounts, scopes and their selector, fixed scopes, columns."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.resourcequotas import KIND, STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)


def _quota(**spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "compute", "namespace": "team", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": spec,
    }


def _validate(obj: Obj) -> list[Cause]:
    obj = copy.deepcopy(obj)
    STRATEGY.default(obj)
    return STRATEGY.validate(obj)


def test_kind_is_served_as_kubectl_expects() -> None:
    """core/v1, namespaced, short name `quota`, with a status subresource."""
    assert (KIND.group, KIND.version, KIND.plural, KIND.namespaced) == ("", "v1", "resourcequotas", True)
    assert KIND.short_names == ("quota",) and KIND.has_status


def test_every_kind_of_name_is_accepted() -> None:
    """Standard names, hugepages, counts of any kind, storage classes and devices are all valid."""
    hard = {
        "pods": "10", "services": "5", "configmaps": "3", "secrets": "3", "persistentvolumeclaims": "2",
        "services.nodeports": "1", "services.loadbalancers": "0", "resourcequotas": "1",
        "cpu": "2", "memory": "4Gi", "requests.cpu": "500m", "requests.memory": "1Gi",
        "limits.cpu": "4", "limits.memory": "8Gi", "requests.storage": "100Gi",
        "requests.ephemeral-storage": "1Gi", "hugepages-2Mi": "1Gi", "requests.hugepages-1Gi": "2Gi",
        "count/deployments.apps": "4", "count/pods": "10",
        "fast.storageclass.storage.k8s.io/requests.storage": "10Gi", "requests.example.com/gpu": "2",
    }
    assert _validate(_quota(hard=hard)) == []


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"hard": {"widgets": "1"}}, "spec.hard[widgets]", "must be a standard resource for quota"),
        ({"hard": {"count/bad name": "1"}}, "spec.hard[count/bad name]", "name part must consist of"),
        ({"hard": {"pods": "-1"}}, "spec.hard[pods]", "must be greater than or equal to 0"),
        ({"hard": {"pods": "1.5"}}, "spec.hard[pods]", "must be an integer"),
        ({"hard": {"count/deployments.apps": "500m"}}, "spec.hard[count/deployments.apps]", "must be an integer"),
        ({"hard": {"cpu": "lots"}}, "spec.hard[cpu]", "quantities must match the regular expression"),
        ({"hard": {"pods": "1"}, "scopes": ["Sometimes"]}, "spec.scopes", "unsupported scope"),
        ({"hard": {"pods": "1"}, "scopes": ["BestEffort", "NotBestEffort"]}, "spec.scopes", "conflicting scopes"),
        ({"hard": {"cpu": "1"}, "scopes": ["BestEffort"]}, "spec.scopes", "unsupported scope applied to resource"),
        ({"hard": {"services": "1"}, "scopes": ["Terminating"]}, "spec.scopes",
         "unsupported scope applied to resource"),
        ({"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In"}]}},
         "spec.scopeSelector.matchExpressions[0].values", "must be at least one value"),
        ({"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [
            {"scopeName": "Terminating", "operator": "In", "values": ["x"]}]}},
         "spec.scopeSelector.matchExpressions[0].operator", "must be 'Exist' when scope is any of"),
        ({"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "Exists", "values": ["x"]}]}},
         "spec.scopeSelector.matchExpressions[0].values", "must be no value"),
        ({"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "Near", "values": ["x"]}]}},
         "spec.scopeSelector.matchExpressions[0].operator", "not a valid selector operator"),
    ],
)
def test_invalid(spec: dict[str, Any], field: str, message: str) -> None:
    """Each bad name, amount, scope or selector requirement is reported at its field."""
    causes = _validate(_quota(**spec))
    assert any(c.field == field and message in c.message for c in causes), causes


def test_scopes_with_pod_resources_are_valid() -> None:
    """Scopes narrow pod counts and compute; a priority class selector takes values."""
    spec = {
        "hard": {"pods": "3", "requests.cpu": "1"},
        "scopes": ["NotTerminating"],
        "scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]},
    }
    assert _validate(_quota(**spec)) == []


def test_scopes_are_fixed_but_limits_may_change() -> None:
    """An update may change `hard`, never the scopes."""
    old = _quota(hard={"pods": "1"}, scopes=["BestEffort"])
    raised = _quota(hard={"pods": "5"}, scopes=["BestEffort"])
    rescoped = _quota(hard={"pods": "1"}, scopes=["NotBestEffort"])
    assert STRATEGY.validate_update(raised, old) == []
    assert [c.field for c in STRATEGY.validate_update(rescoped, old)] == ["spec.scopes"]


def test_create_drops_status_and_status_writes_are_checked() -> None:
    """A client cannot create a quota with usage; a status write must hold valid amounts."""
    obj = _quota(hard={"pods": "1"})
    obj["status"] = {"used": {"pods": "0"}}
    STRATEGY.prepare_for_create(obj)
    assert "status" not in obj
    new = {**_quota(hard={"pods": "1"}), "status": {"hard": {"pods": "1"}, "used": {"pods": "-2"}}}
    causes = STRATEGY.validate_status_update(new, _quota(hard={"pods": "1"}))
    assert [c.field for c in causes] == ["status.used[pods]"]


def test_row_shows_used_over_hard_with_limits_apart() -> None:
    """REQUEST holds every name but `limits.*`, sorted; unreported usage shows as 0."""
    obj = _quota(hard={"pods": "10"})
    obj["status"] = {
        "hard": {"pods": "10", "requests.cpu": "2", "limits.cpu": "4", "limits.memory": "1Gi"},
        "used": {"pods": "1", "requests.cpu": "500m", "limits.cpu": "1"},
    }
    assert [c.name for c in STRATEGY.columns] == ["Name", "Age", "Request", "Limit"]
    assert STRATEGY.row(obj, NOW) == [
        "compute", "60m", "pods: 1/10, requests.cpu: 500m/2", "limits.cpu: 1/4, limits.memory: 0/1Gi",
    ]


def test_row_of_a_quota_not_yet_counted() -> None:
    """Before the controller writes status, both columns are empty (as kubectl shows it)."""
    assert STRATEGY.row(_quota(hard={"pods": "1"}), NOW) == ["compute", "60m", "", ""]
