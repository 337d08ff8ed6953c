"""StorageClass rules: defaults, provisioner and parameters, fixed fields, the NAME cell."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.storageclasses import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def _sc(annotations: dict[str, str] | None = None, **fields: Any) -> Obj:
    fields.setdefault("provisioner", "rancher.io/local-path")
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "local-path",
            "annotations": annotations or {},
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        **fields,
    }


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


@pytest.mark.parametrize(
    ("fields", "policy", "mode"),
    [
        ({}, "Delete", "Immediate"),
        ({"reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"},
         "Retain", "WaitForFirstConsumer"),
    ],
)
def test_defaults(fields: Obj, policy: str, mode: str) -> None:
    """Delete and Immediate by default; chosen values are kept."""
    created, causes = _create(_sc(**fields))
    assert causes == []
    assert (created["reclaimPolicy"], created["volumeBindingMode"]) == (policy, mode)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"provisioner": ""}, "provisioner", "Required value"),
        ({"provisioner": "local path!"}, "provisioner", "name part must consist of"),
        ({"parameters": {"": "x"}}, "parameters", "field can not be empty."),
        ({"parameters": {str(i): "x" for i in range(513)}}, "parameters", "Too long"),
        ({"reclaimPolicy": "Recycle"}, "reclaimPolicy", 'Unsupported value: "Recycle"'),
        ({"volumeBindingMode": "Later"}, "volumeBindingMode", 'Unsupported value: "Later"'),
    ],
)
def test_invalid(fields: Obj, field: str, message: str) -> None:
    """A qualified provisioner, sane parameters, known policy and binding mode."""
    _, causes = _create(_sc(**fields))
    assert any(c.field == field and message in c.message for c in causes), causes


@pytest.mark.parametrize(
    ("change", "causes"),
    [
        ({"provisioner": "example.com/nfs"},
         [("provisioner", "Forbidden: updates to provisioner are forbidden.")]),
        ({"parameters": {"path": "/other"}},
         [("parameters", "Forbidden: updates to parameters are forbidden.")]),
        ({"reclaimPolicy": "Retain"},
         [("reclaimPolicy", "Forbidden: updates to reclaimPolicy are forbidden.")]),
        ({"volumeBindingMode": "WaitForFirstConsumer"},
         [("volumeBindingMode", "field is immutable")]),
        ({"allowVolumeExpansion": True, "mountOptions": ["noatime"]}, []),
    ],
)
def test_update(change: Obj, causes: list[tuple[str, str]]) -> None:
    """Only expansion, mount options and metadata may change."""
    old, _ = _create(_sc(parameters={"path": "/data"}))
    new = copy.deepcopy(old)
    new.update(change)
    STRATEGY.default(new)
    found = STRATEGY.validate_update(new, old)
    assert [(c.field, c.message) for c in found] == causes


@pytest.mark.parametrize(
    ("annotations", "fields", "cells"),
    [
        ({"storageclass.kubernetes.io/is-default-class": "true"}, {},
         ["local-path (default)", "rancher.io/local-path", "Delete", "Immediate", False]),
        ({"storageclass.kubernetes.io/is-default-class": "false"},
         {"allowVolumeExpansion": True, "volumeBindingMode": "WaitForFirstConsumer"},
         ["local-path", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", True]),
    ],
)
def test_row(annotations: dict[str, str], fields: Obj, cells: list[Any]) -> None:
    """NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE."""
    created, _ = _create(_sc(annotations, **fields))
    assert STRATEGY.row(created, NOW) == [*cells, "24h"]
    assert [c.name for c in STRATEGY.columns] == [
        "Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age",
    ]
