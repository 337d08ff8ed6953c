"""PersistentVolumeClaim rules: required fields, the fixed spec and its exceptions, table."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.persistentvolumeclaims import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 0, 1, tzinfo=UTC)


def _pvc(**spec: Any) -> Obj:
    spec.setdefault("accessModes", ["ReadWriteOnce"])
    spec.setdefault("resources", {"requests": {"storage": "1Gi"}})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "data",
            "namespace": "default",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "spec": spec,
    }


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


def _update(old: Obj, change: dict[str, Any]) -> list[Cause]:
    new = copy.deepcopy(old)
    new["spec"].update(change)
    STRATEGY.prepare_for_update(new, old)
    STRATEGY.default(new)
    return STRATEGY.validate_update(new, old)


@pytest.mark.parametrize(("spec", "mode"), [({}, "Filesystem"), ({"volumeMode": "Block"}, "Block")])
def test_defaults_and_initial_status(spec: dict[str, Any], mode: str) -> None:
    """volumeMode defaults to Filesystem; a new claim is Pending whatever was sent."""
    obj = _pvc(**spec)
    obj["status"] = {"phase": "Bound"}
    created, causes = _create(obj)
    assert causes == []
    assert created["spec"]["volumeMode"] == mode
    assert created["status"] == {"phase": "Pending"}


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"accessModes": []}, "spec.accessModes",
         "Required value: at least 1 access mode is required"),
        ({"accessModes": ["Sometimes"]}, "spec.accessModes", 'Unsupported value: "Sometimes"'),
        ({"resources": {}}, "spec.resources[storage]", "Required value"),
        ({"resources": {"requests": {"storage": "-1Gi"}}}, "spec.resources[storage]",
         "must be greater than zero"),
        ({"resources": {"requests": {"storage": "1 GB"}}}, "spec.resources[storage]",
         "quantities must match"),
        ({"storageClassName": "Local Path"}, "spec.storageClassName", "RFC 1123 subdomain"),
        ({"volumeMode": "Raw"}, "spec.volumeMode", 'Unsupported value: "Raw"'),
    ],
)
def test_invalid(spec: dict[str, Any], field: str, message: str) -> None:
    """Access modes and a positive storage request are required."""
    _, causes = _create(_pvc(**spec))
    assert any(c.field == field and message in c.message for c in causes), causes


@pytest.mark.parametrize(
    ("old_spec", "phase", "change", "fields"),
    [
        ({}, "Pending", {"volumeName": "pv-1"}, []),
        ({"volumeName": "pv-1"}, "Bound", {"volumeName": "pv-2"}, ["spec"]),
        ({}, "Pending", {"storageClassName": "local-path"}, []),
        ({"storageClassName": "local-path"}, "Pending", {"storageClassName": "fast"}, ["spec"]),
        ({}, "Pending", {"accessModes": ["ReadWriteMany"]}, ["spec"]),
        ({}, "Bound", {"resources": {"requests": {"storage": "2Gi"}}}, []),
        ({}, "Bound", {"resources": {"requests": {"storage": "1024Mi"}}}, []),
        ({}, "Pending", {"resources": {"requests": {"storage": "2Gi"}}}, ["spec"]),
        ({}, "Bound", {"resources": {"requests": {"storage": "512Mi"}}},
         ["spec.resources.requests.storage"]),
    ],
)
def test_update(old_spec: dict[str, Any], phase: str, change: dict[str, Any],
                fields: list[str]) -> None:
    """volumeName and a first class may be set once; a bound claim may only grow."""
    old, _ = _create(_pvc(**old_spec))
    old["status"] = {"phase": phase}
    assert [c.field for c in _update(old, change)] == fields


def test_beta_class_annotation_is_fixed() -> None:
    """The old class annotation may not change after creation."""
    obj = _pvc()
    obj["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "a"}
    old, _ = _create(obj)
    new = copy.deepcopy(old)
    new["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"] = "b"
    causes = STRATEGY.validate_update(new, old)
    assert [c.field for c in causes] == [
        "metadata.annotations[volume.beta.kubernetes.io/storage-class]"
    ]


@pytest.mark.parametrize(
    ("spec", "status", "cells"),
    [
        ({"storageClassName": "local-path"}, {"phase": "Pending"},
         ["Pending", "", "", "", "local-path", "<unset>", "60s", "Filesystem"]),
        ({"storageClassName": "local-path", "volumeName": "pvc-1234"},
         {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]},
         ["Bound", "pvc-1234", "1Gi", "RWO", "local-path", "<unset>", "60s", "Filesystem"]),
        ({"volumeName": "pvc-1234"}, {"phase": "Bound"},
         ["Bound", "pvc-1234", "0", "", "", "<unset>", "60s", "Filesystem"]),
    ],
)
def test_row(spec: dict[str, Any], status: Obj, cells: list[str]) -> None:
    """NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE."""
    pvc, _ = _create(_pvc(**spec))
    pvc["status"] = status
    assert STRATEGY.row(pvc, NOW) == ["data", *cells]
    assert [c.name for c in STRATEGY.columns][:8] == [
        "Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
        "VolumeAttributesClass", "Age",
    ]
