"""Event rules: defaults, the involved object and its namespace, type, table, selectors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.events import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)


def _event(**fields: Any) -> Obj:
    event: Obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web-7d4b9.17a", "namespace": "default"},
        "involvedObject": {"kind": "Deployment", "namespace": "default", "name": "web",
                           "apiVersion": "apps/v1", "uid": "u-1"},
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set web-7d4b9 to 3 ",
        "type": "Normal",
        "source": {"component": "deployment-controller"},
    }
    event.update(fields)
    return event


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, {"count": 1}),
        ({"count": 4}, {"count": 4}),
        ({"firstTimestamp": "2024-01-01T00:00:00Z"},
         {"firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:00:00Z"}),
        ({"lastTimestamp": "2024-01-01T00:30:00Z"},
         {"firstTimestamp": "2024-01-01T00:30:00Z", "lastTimestamp": "2024-01-01T00:30:00Z"}),
        ({"firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:30:00Z"},
         {"firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:30:00Z"}),
    ],
)
def test_defaults(fields: Obj, expected: Obj) -> None:
    """count defaults to 1 and each timestamp to the other, without overriding either."""
    created, causes = _create(_event(**fields))
    assert causes == []
    assert {k: created[k] for k in expected} == expected


def test_timestamps_default_to_now_when_both_missing() -> None:
    """An event with no times at all is stamped with the time it was written."""
    created, _ = _create(_event())
    assert created["firstTimestamp"] == created["lastTimestamp"]
    assert created["firstTimestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"involvedObject": None}, "involvedObject", "Required value"),
        ({"involvedObject": {}}, "involvedObject", "Required value"),
        ({"type": "Error"}, "type", 'Unsupported value: "Error"'),
        ({"involvedObject": {"kind": "Pod", "namespace": "other", "name": "p"}},
         "involvedObject.namespace", "does not match event.namespace"),
        ({"metadata": {"name": "e", "namespace": "team-a"},
          "involvedObject": {"kind": "Node", "name": "pi-1"}},
         "involvedObject.namespace", "does not match event.namespace"),
        ({"metadata": {"name": "e"}}, "metadata.namespace", "Required value"),
        ({"eventTime": "2024-01-01T00:00:00.000000Z"}, "reportingComponent", "Required value"),
        ({"eventTime": "2024-01-01T00:00:00.000000Z", "reportingComponent": "c",
          "reportingInstance": "i", "action": "Scale", "reason": "x" * 129},
         "reason", "can have at most 128 characters"),
    ],
)
def test_invalid(fields: Obj, field: str, message: str) -> None:
    """An event is about an object in its own namespace, and is Normal or Warning."""
    _, causes = _create(_event(**fields))
    assert any(c.field == field and message in c.message for c in causes), causes


def test_node_event_in_default_namespace() -> None:
    """Events about cluster-scoped objects live in `default`."""
    _, causes = _create(_event(involvedObject={"kind": "Node", "name": "pi-1"}))
    assert causes == []


@pytest.mark.parametrize(
    ("fields", "row"),
    [
        ({"firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:55:00Z",
          "count": 3},
         ["5m", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller",
          "Scaled up replica set web-7d4b9 to 3", "60m", 3, "web-7d4b9.17a"]),
        ({"type": "Warning", "reason": "BackOff", "message": "Back-off restarting",
          "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1",
                             "fieldPath": "spec.containers{app}"},
          "source": {"component": "kubelet", "host": "pi-1"},
          "firstTimestamp": "2024-01-01T00:59:00Z", "lastTimestamp": "2024-01-01T00:59:30Z"},
         ["30s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}", "kubelet, pi-1",
          "Back-off restarting", "60s", 1, "web-7d4b9.17a"]),
        ({"eventTime": "2024-01-01T00:50:00.000000Z", "reportingComponent": "scheduler",
          "reportingInstance": "server-1", "source": {}, "count": 0,
          "involvedObject": {"kind": "Node"}},
         ["10m", "Normal", "ScalingReplicaSet", "node", "", "scheduler, server-1",
          "Scaled up replica set web-7d4b9 to 3", "10m", 1, "web-7d4b9.17a"]),
        ({"eventTime": "2024-01-01T00:00:00.000000Z",
          "series": {"count": 7, "lastObservedTime": "2024-01-01T00:58:00.000000Z"}},
         ["2m", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller",
          "Scaled up replica set web-7d4b9 to 3", "60m", 7, "web-7d4b9.17a"]),
    ],
)
def test_row(fields: Obj, row: list[Any]) -> None:
    """LAST SEEN TYPE REASON OBJECT [SUBOBJECT SOURCE] MESSAGE [FIRST SEEN COUNT NAME]."""
    assert STRATEGY.row(_event(**fields), NOW) == row
    assert [c.name for c in STRATEGY.columns] == [
        "Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message",
        "First Seen", "Count", "Name",
    ]


def test_field_values_for_kubectl_describe() -> None:
    """The involvedObject.* selectors kubectl describe sends, plus reason, source, type."""
    values = STRATEGY.field_values(_event(reportingComponent="deployment-controller"))
    assert values["involvedObject.kind"] == "Deployment"
    assert values["involvedObject.name"] == "web"
    assert values["involvedObject.namespace"] == "default"
    assert values["involvedObject.uid"] == "u-1"
    assert values["involvedObject.apiVersion"] == "apps/v1"
    assert values["involvedObject.fieldPath"] == ""
    assert values["involvedObject.resourceVersion"] == ""
    assert values["reason"] == "ScalingReplicaSet"
    assert values["source"] == "deployment-controller"
    assert values["reportingComponent"] == "deployment-controller"
    assert values["type"] == "Normal"
    assert values["metadata.namespace"] == "default"
