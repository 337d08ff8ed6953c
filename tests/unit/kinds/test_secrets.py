"""Secret rules: stringData folding, base64, type requirements, immutability, table."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.secrets import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 0, 10, tzinfo=UTC)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _secret(**fields: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "creds",
            "namespace": "default",
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
    ("fields", "expected_type", "expected_data"),
    [
        ({}, "Opaque", None),
        ({"type": "kubernetes.io/basic-auth", "data": {"username": _b64("u")}},
         "kubernetes.io/basic-auth", {"username": _b64("u")}),
        ({"stringData": {"password": "s3cret"}}, "Opaque", {"password": _b64("s3cret")}),
        ({"data": {"a": _b64("old"), "b": _b64("keep")}, "stringData": {"a": "new"}},
         "Opaque", {"a": _b64("new"), "b": _b64("keep")}),
    ],
)
def test_defaults(fields: Obj, expected_type: str, expected_data: Obj | None) -> None:
    """Type defaults to Opaque; stringData is encoded into data (winning) and removed."""
    created, causes = _create(_secret(**fields))
    assert causes == []
    assert created["type"] == expected_type
    assert created.get("data") == expected_data
    assert "stringData" not in created


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"data": {"token": "%%%"}}, "data[token]",
         'Invalid value: "<secret contents redacted>": illegal base64 data'),
        ({"data": {"a b": _b64("x")}}, "data[a b]", "a valid config key"),
        ({"stringData": {"..x": "y"}}, "data[..x]", "must not start with '..'"),
        ({"data": {"big": _b64("x" * (1024 * 1024 + 1))}}, "data", "Too long"),
        ({"type": "kubernetes.io/tls", "data": {"tls.crt": _b64("c")}}, "data[tls.key]",
         "Required value"),
        ({"type": "kubernetes.io/tls"}, "data[tls.crt]", "Required value"),
        ({"type": "kubernetes.io/dockerconfigjson"}, "data[.dockerconfigjson]", "Required value"),
        ({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _b64("{x")}},
         "data[.dockerconfigjson]", "must be valid JSON"),
        ({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _b64("[]")}},
         "data[.dockerconfigjson]", "must be a JSON object"),
        ({"type": "kubernetes.io/service-account-token"},
         "metadata.annotations[kubernetes.io/service-account.name]", "Required value"),
        ({"type": "kubernetes.io/basic-auth"}, "data[username]", "Required value"),
        ({"type": "kubernetes.io/ssh-auth", "data": {"ssh-privatekey": ""}},
         "data[ssh-privatekey]", "Required value"),
    ],
)
def test_invalid(fields: Obj, field: str, message: str) -> None:
    """Values are base64, keys are file names, and typed secrets hold their keys."""
    _, causes = _create(_secret(**fields))
    assert any(c.field == field and message in c.message for c in causes), causes
    assert all("s3cret" not in c.message for c in causes)


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "kubernetes.io/tls", "data": {"tls.crt": _b64("c"), "tls.key": _b64("k")}},
        {"type": "kubernetes.io/dockerconfigjson",
         "data": {".dockerconfigjson": _b64('{"auths": {}}')}},
        {"type": "kubernetes.io/service-account-token",
         "metadata": {"name": "t", "namespace": "default",
                      "annotations": {"kubernetes.io/service-account.name": "default"}}},
        {"data": {"wrapped": _b64("x" * 100)[:76] + "\n" + _b64("x" * 100)[76:]}},
    ],
)
def test_valid(fields: Obj) -> None:
    """Complete typed secrets pass, and base64 wrapped over lines decodes."""
    _, causes = _create(_secret(**fields))
    assert causes == []


@pytest.mark.parametrize(
    ("old", "new", "causes"),
    [
        ({}, {"type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}},
         [("type", "field is immutable")]),
        ({"immutable": True, "data": {"a": _b64("1")}},
         {"immutable": True, "data": {"a": _b64("2")}},
         [("data", "Forbidden: field is immutable when `immutable` is set")]),
        ({"immutable": True}, {"immutable": False},
         [("immutable", "Forbidden: field is immutable when `immutable` is set")]),
        ({"data": {"a": _b64("1")}}, {"data": {"a": _b64("2")}, "immutable": True}, []),
    ],
)
def test_update(old: Obj, new: Obj, causes: list[tuple[str, str]]) -> None:
    """Type never changes; immutable secrets keep their data and the flag."""
    stored, _ = _create(_secret(**old))
    updated = _secret(**new)
    STRATEGY.prepare_for_update(updated, stored)
    STRATEGY.default(updated)
    found = STRATEGY.validate_update(updated, stored)
    assert [(c.field, c.message) for c in found] == causes


def test_row_and_field_values() -> None:
    """NAME TYPE DATA AGE, and `type` as a field selector."""
    created, _ = _create(_secret(stringData={"a": "1", "b": "2"}))
    assert STRATEGY.row(created, NOW) == ["creds", "Opaque", 2, "10m"]
    assert [c.name for c in STRATEGY.columns] == ["Name", "Type", "Data", "Age"]
    assert STRATEGY.field_values(created)["type"] == "Opaque"
