"""Node rules: status kept on create, taints, pod CIDRs, STATUS/ROLES cells, selectors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.nodes import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 11, tzinfo=UTC)


def _node(labels: dict[str, str] | None = None, **fields: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "pi-1",
            "labels": labels or {},
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        **fields,
    }


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


def test_create_keeps_registered_status() -> None:
    """The agent registers with its status; allocatable defaults to capacity."""
    status = {"capacity": {"cpu": "4", "memory": "8Gi"}, "nodeInfo": {"kubeletVersion": "v1.30"}}
    created, causes = _create(_node(status=status))
    assert causes == []
    assert created["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi"}
    assert created["status"]["nodeInfo"] == {"kubeletVersion": "v1.30"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"podCIDR": "10.42.1.0/24"}, {"podCIDR": "10.42.1.0/24", "podCIDRs": ["10.42.1.0/24"]}),
        ({"podCIDRs": ["10.42.1.0/24"]},
         {"podCIDR": "10.42.1.0/24", "podCIDRs": ["10.42.1.0/24"]}),
    ],
)
def test_pod_cidr_fields_are_synced(spec: Obj, expected: Obj) -> None:
    """podCIDR and podCIDRs[0] say the same thing whichever the client set."""
    created, causes = _create(_node(spec=spec))
    assert causes == []
    assert created["spec"] == expected


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        (_node(spec={"taints": [{"key": "dedicated", "effect": "Sometimes"}]}),
         "spec.taints[0].effect", 'Unsupported value: "Sometimes"'),
        (_node(spec={"taints": [{"key": "dedicated"}]}), "spec.taints[0].effect",
         "Required value"),
        (_node(spec={"taints": [{"key": "bad key!", "effect": "NoSchedule"}]}),
         "spec.taints[0].key", "name part must consist of"),
        (_node(spec={"taints": [{"key": "", "effect": "NoSchedule"}]}),
         "spec.taints[0].key", "name part must be non-empty"),
        (_node(spec={"taints": [{"key": "a", "value": "x y", "effect": "NoSchedule"}]}),
         "spec.taints[0].value", "a valid label"),
        (_node(spec={"taints": [{"key": "a", "effect": "NoSchedule"},
                                {"key": "a", "value": "v", "effect": "NoSchedule"}]}),
         "spec.taints[1]", "taints must be unique by key and effect pair"),
        (_node(spec={"podCIDRs": ["10.42.1.0"]}), "spec.podCIDRs[0]", "must be a valid CIDR"),
        (_node(spec={"podCIDRs": ["10.42.1.0/24", "10.42.2.0/24"]}), "spec.podCIDRs",
         "may specify no more than one CIDR for each IP family"),
    ],
)
def test_invalid(obj: Obj, field: str, message: str) -> None:
    """Taints need a qualified key and a known effect, unique per pair; CIDRs parse."""
    _, causes = _create(obj)
    assert any(c.field == field and message in c.message for c in causes), causes


def test_same_taint_key_with_other_effect_is_fine() -> None:
    """Key and effect together make a taint unique."""
    taints = [{"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NoExecute"}]
    _, causes = _create(_node(spec={"taints": taints}))
    assert causes == []


@pytest.mark.parametrize(
    ("old_spec", "new_spec", "fields"),
    [
        ({}, {"podCIDR": "10.42.1.0/24"}, []),
        ({"podCIDR": "10.42.1.0/24"}, {"podCIDR": "10.42.1.0/24", "unschedulable": True}, []),
        ({"podCIDR": "10.42.1.0/24"}, {"podCIDR": "10.42.2.0/24", "podCIDRs": ["10.42.2.0/24"]},
         ["spec.podCIDRs"]),
        ({"podCIDR": "10.42.1.0/24"}, {"podCIDR": "10.42.2.0/24"}, ["spec.podCIDRs"]),
        ({"podCIDRs": ["10.42.1.0/24"]}, {}, ["spec.podCIDRs"]),
        ({"podCIDR": "10.42.1.0/24"}, {"podCIDR": "10.42.2.0/24", "podCIDRs": ["10.42.1.0/24"]},
         ["spec.podCIDR"]),
        ({"providerID": "edge://pi-1"}, {"providerID": "edge://pi-2"}, ["spec.providerID"]),
    ],
)
def test_update_keeps_pod_cidr(old_spec: Obj, new_spec: Obj, fields: list[str]) -> None:
    """A pod CIDR may be assigned once and then never changes."""
    old, _ = _create(_node(spec=old_spec))
    new = _node(spec=new_spec)
    STRATEGY.prepare_for_update(new, old)
    STRATEGY.default(new)
    causes = STRATEGY.validate_update(new, old)
    assert [c.field for c in causes] == fields
    assert all("may not change podCIDR" in c.message or "providerID" in c.message for c in causes)


def _ready(status: str) -> Obj:
    return {"conditions": [{"type": "MemoryPressure", "status": "False"},
                           {"type": "Ready", "status": status}]}


@pytest.mark.parametrize(
    ("labels", "spec", "status", "cells"),
    [
        ({}, {}, _ready("True"), ["Ready", "<none>"]),
        ({}, {}, _ready("False"), ["NotReady", "<none>"]),
        ({}, {}, _ready("Unknown"), ["NotReady", "<none>"]),
        ({}, {}, {}, ["Unknown", "<none>"]),
        ({}, {"unschedulable": True}, _ready("True"), ["Ready,SchedulingDisabled", "<none>"]),
        ({"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "true"},
         {}, _ready("True"), ["Ready", "control-plane,etcd"]),
        ({"kubernetes.io/role": "edge", "node-role.kubernetes.io/": ""}, {}, _ready("True"),
         ["Ready", "edge"]),
    ],
)
def test_status_and_roles_cells(labels: dict[str, str], spec: Obj, status: Obj,
                                cells: list[str]) -> None:
    """STATUS from the Ready condition plus SchedulingDisabled; ROLES from role labels."""
    row = STRATEGY.row(_node(labels, spec=spec, status=status), NOW)
    assert row[1:3] == cells


def test_wide_row() -> None:
    """VERSION and the wide columns come from nodeInfo and the reported addresses."""
    status = {
        **_ready("True"),
        "addresses": [{"type": "Hostname", "address": "pi-1"},
                      {"type": "InternalIP", "address": "192.168.1.21"}],
        "nodeInfo": {"kubeletVersion": "v1.30.2-edgekube", "osImage": "Debian GNU/Linux 12",
                     "kernelVersion": "6.1.0-rpi7", "containerRuntimeVersion": "podman://4.3.1"},
    }
    row = STRATEGY.row(_node(status=status), NOW)
    assert row == ["pi-1", "Ready", "<none>", "10d", "v1.30.2-edgekube", "192.168.1.21",
                   "<none>", "Debian GNU/Linux 12", "6.1.0-rpi7", "podman://4.3.1"]
    assert [c.name for c in STRATEGY.columns if c.priority == 0] == [
        "Name", "Status", "Roles", "Age", "Version"]
    assert STRATEGY.row(_node(), NOW)[-3:] == ["<unknown>"] * 3


@pytest.mark.parametrize(("spec", "value"), [({}, "false"), ({"unschedulable": True}, "true")])
def test_unschedulable_field_selector(spec: Obj, value: str) -> None:
    """spec.unschedulable is served as "true"/"false", like Go prints a bool."""
    values = STRATEGY.field_values(_node(spec=spec))
    assert values["spec.unschedulable"] == value
    assert values["metadata.name"] == "pi-1"
