"""ConfigMap rules: keys, the data/binaryData overlap, the size cap, `immutable`, DATA."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.configmaps import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)


def _cm(**fields: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "settings",
            "namespace": "default",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        **fields,
    }


def _validate(obj: Obj) -> list[Cause]:
    obj = copy.deepcopy(obj)
    STRATEGY.default(obj)
    return STRATEGY.validate(obj)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"data": {"a b": "x"}}, "data[a b]", "a valid config key must consist of"),
        ({"data": {"..data": "x"}}, "data[..data]", "must not start with '..'"),
        ({"data": {".": "x"}}, "data[.]", "must not be '.'"),
        ({"data": {"k" * 254: "x"}}, f"data[{'k' * 254}]", "no more than 253 characters"),
        ({"binaryData": {"a/b": "eA=="}}, "binaryData[a/b]", "a valid config key"),
        ({"data": {"app.conf": "x"}, "binaryData": {"app.conf": "eA=="}}, "data[app.conf]",
         "duplicate of key present in binaryData"),
        ({"binaryData": {"blob": "not base64!"}}, "binaryData[blob]", "illegal base64 data"),
        ({"data": {"big": "x" * (1024 * 1024 + 1)}}, "", "Too long"),
    ],
)
def test_invalid(fields: dict[str, Any], field: str, message: str) -> None:
    """Keys are file names, each in one map only, and all data fits in 1 MiB."""
    causes = _validate(_cm(**fields))
    assert any(c.field == field and message in c.message for c in causes), causes


def test_valid_keys_and_exact_limit() -> None:
    """Dots, dashes and underscores are fine, and exactly 1 MiB is allowed."""
    causes = _validate(_cm(
        data={".hidden": "x", "app_config-v1.yaml": "y" * (1024 * 1024 - 2)},
        binaryData={"logo.png": "AA=="},
    ))
    assert causes == []


@pytest.mark.parametrize(
    ("old", "new", "fields"),
    [
        ({"immutable": True, "data": {"a": "1"}}, {"immutable": True, "data": {"a": "2"}},
         ["data"]),
        ({"immutable": True, "data": {"a": "1"}}, {"data": {"a": "1"}}, ["immutable"]),
        ({"immutable": True, "binaryData": {"b": "AA=="}}, {"immutable": True}, ["binaryData"]),
        ({"immutable": True, "data": {}}, {"immutable": True}, []),
        ({"data": {"a": "1"}}, {"immutable": True, "data": {"a": "2"}}, []),
        ({"immutable": False, "data": {"a": "1"}}, {"data": {"a": "2"}}, []),
    ],
)
def test_immutable_freezes_contents(old: Obj, new: Obj, fields: list[str]) -> None:
    """With immutable: true stored, neither the data nor the flag may change."""
    causes = STRATEGY.validate_update(_cm(**new), _cm(**old))
    assert [c.field for c in causes] == fields
    assert all(c.message == "Forbidden: field is immutable when `immutable` is set" for c in causes)


def test_row_counts_both_maps() -> None:
    """DATA counts the keys of data and binaryData together."""
    cm = _cm(data={"a": "1", "b": "2"}, binaryData={"c": "AA=="})
    assert STRATEGY.row(cm, NOW) == ["settings", 3, "60m"]
    assert [c.name for c in STRATEGY.columns] == ["Name", "Data", "Age"]
