"""PersistentVolume rules: defaults, size, modes, one fixed source, phases, the table."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.persistentvolumes import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)


def _pv(**spec: Any) -> Obj:
    spec.setdefault("capacity", {"storage": "10Gi"})
    spec.setdefault("accessModes", ["ReadWriteOnce"])
    if not any(k in spec for k in ("hostPath", "nfs", "local", "csi", "none")):
        spec["hostPath"] = {"path": "/var/lib/edgekube/volumes/pv-1"}
    spec.pop("none", None)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": spec,
    }


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


def test_defaults_and_initial_status() -> None:
    """Retain and Filesystem by default; every volume starts Pending."""
    created, causes = _create(_pv())
    assert causes == []
    assert created["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert created["spec"]["volumeMode"] == "Filesystem"
    assert created["status"] == {"phase": "Pending"}


def test_defaults_keep_client_values() -> None:
    """A chosen policy and mode are kept."""
    created, _ = _create(_pv(persistentVolumeReclaimPolicy="Delete", volumeMode="Block"))
    assert created["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert created["spec"]["volumeMode"] == "Block"


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"capacity": {}}, "spec.capacity", "Required value"),
        ({"capacity": {"storage": "lots"}}, "spec.capacity[storage]",
         "quantities must match the regular expression"),
        ({"capacity": {"storage": "0"}}, "spec.capacity[storage]", "must be greater than zero"),
        ({"capacity": {"storage": "1Gi", "cpu": "1"}}, "spec.capacity", "Unsupported value"),
        ({"accessModes": []}, "spec.accessModes", "Required value"),
        ({"accessModes": ["ReadWriteSometimes"]}, "spec.accessModes",
         'Unsupported value: "ReadWriteSometimes"'),
        ({"accessModes": ["ReadWriteOncePod", "ReadOnlyMany"]}, "spec.accessModes",
         "may not use ReadWriteOncePod with other access modes"),
        ({"none": True}, "spec", "must specify a volume type"),
        ({"hostPath": {"path": "/a"}, "nfs": {"server": "nas", "path": "/b"}}, "spec.nfs",
         "may not specify more than 1 volume type"),
        ({"hostPath": {}}, "spec.hostPath.path", "Required value"),
        ({"nfs": {"server": "nas", "path": "exports"}}, "spec.nfs.path",
         "must be an absolute path"),
        ({"csi": {"driver": "rancher.io/local-path"}}, "spec.csi.volumeHandle", "Required value"),
        ({"local": {"path": "/mnt/ssd"}}, "spec.nodeAffinity",
         "Local volume requires node affinity"),
        ({"persistentVolumeReclaimPolicy": "Keep"}, "spec.persistentVolumeReclaimPolicy",
         'Unsupported value: "Keep"'),
        ({"volumeMode": "Raw"}, "spec.volumeMode", 'Unsupported value: "Raw"'),
        ({"storageClassName": "Fast_SSD"}, "spec.storageClassName", "RFC 1123 subdomain"),
    ],
)
def test_invalid(spec: dict[str, Any], field: str, message: str) -> None:
    """A size in storage only, known modes, and exactly one complete source."""
    _, causes = _create(_pv(**spec))
    assert any(c.field == field and message in c.message for c in causes), causes


@pytest.mark.parametrize("size", ["1Gi", "500M", "1e9", "1.5Ti", 1073741824])
def test_sizes_are_quantities(size: Any) -> None:
    """Binary and decimal suffixes, exponents and plain numbers are all sizes."""
    _, causes = _create(_pv(capacity={"storage": size}))
    assert causes == []


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"hostPath": {"path": "/elsewhere"}}, ["spec.persistentvolumesource"]),
        ({"volumeMode": "Block"}, ["spec.volumeMode"]),
        ({"capacity": {"storage": "20Gi"}, "persistentVolumeReclaimPolicy": "Delete"}, []),
        ({"claimRef": {"namespace": "default", "name": "data"}}, []),
    ],
)
def test_update(change: dict[str, Any], fields: list[str]) -> None:
    """The source and mode are fixed after creation; size, policy and claim may change."""
    old, _ = _create(_pv())
    new = copy.deepcopy(old)
    new["spec"].update(change)
    STRATEGY.prepare_for_update(new, old)
    STRATEGY.default(new)
    assert [c.field for c in STRATEGY.validate_update(new, old)] == fields


@pytest.mark.parametrize(("phase", "ok"), [("Bound", True), ("Lost", False)])
def test_status_phase(phase: str, ok: bool) -> None:
    """Status writes may set only the known phases."""
    old, _ = _create(_pv())
    new = copy.deepcopy(old)
    new["status"] = {"phase": phase}
    assert (STRATEGY.validate_status_update(new, old) == []) == ok


@pytest.mark.parametrize(
    ("spec", "extra", "cells"),
    [
        ({}, {}, ["10Gi", "RWO", "Retain", "Pending", "", "", "<unset>", "", "Filesystem"]),
        ({"accessModes": ["ReadWriteMany", "ReadOnlyMany", "ReadWriteOnce"],
          "storageClassName": "local-path",
          "claimRef": {"namespace": "default", "name": "data"}},
         {"status": {"phase": "Bound"}},
         ["10Gi", "RWO,ROX,RWX", "Retain", "Bound", "default/data", "local-path", "<unset>", "",
          "Filesystem"]),
        ({"storageClassName": "new"},
         {"metadata": {"name": "pv-1", "creationTimestamp": "2024-01-01T00:00:00Z",
                       "deletionTimestamp": "2024-01-01T01:00:00Z",
                       "annotations": {"volume.beta.kubernetes.io/storage-class": "old"}},
          "status": {"phase": "Released", "reason": "Reclaiming"}},
         ["10Gi", "RWO", "Retain", "Terminating", "", "old", "<unset>", "Reclaiming",
          "Filesystem"]),
    ],
)
def test_row(spec: dict[str, Any], extra: Obj, cells: list[str]) -> None:
    """NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS ... AGE."""
    pv, _ = _create(_pv(**spec))
    pv.update(extra)
    assert STRATEGY.row(pv, NOW) == ["pv-1", *cells[:8], "120m", cells[8]]
    assert [c.name for c in STRATEGY.columns] == [
        "Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
        "VolumeAttributesClass", "Reason", "Age", "VolumeMode",
    ]
