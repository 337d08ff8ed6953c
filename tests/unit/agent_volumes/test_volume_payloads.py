"""Which files a configMap, secret or downwardAPI volume holds: keys, items, modes, paths."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from agent.volumes.errors import VolumeError
from agent.volumes.payloads import (
    DEFAULT_MODE,
    FileContent,
    check_relative_path,
    configmap_data,
    downward_payload,
    field_value,
    file_mode,
    format_map,
    key_payload,
    resource_value,
    secret_data,
)

DATA = {"a": b"1", "b": b"2"}


def no_node(resource: str) -> Decimal:
    return {"cpu": Decimal(4), "memory": Decimal(8 << 30)}.get(resource, Decimal(0))


@pytest.mark.parametrize(
    ("items", "default_mode", "expected"),
    [
        (None, DEFAULT_MODE, {"a": FileContent(b"1", 0o644), "b": FileContent(b"2", 0o644)}),
        (None, 0o400, {"a": FileContent(b"1", 0o400), "b": FileContent(b"2", 0o400)}),
        ([{"key": "b", "path": "x/b.txt"}], 0o644, {"x/b.txt": FileContent(b"2", 0o644)}),
        ([{"key": "b", "path": "b", "mode": 0o600}], 0o644, {"b": FileContent(b"2", 0o600)}),
        ([{"key": "a", "path": "one"}, {"key": "a", "path": "two", "mode": 420}], 0o400,
         {"one": FileContent(b"1", 0o400), "two": FileContent(b"1", 0o644)}),
    ],
)  # fmt: skip
def test_key_payload(items: Any, default_mode: int, expected: dict[str, FileContent]) -> None:
    """All keys at defaultMode, or only the items at their paths, an item's mode winning."""
    assert key_payload("configmap x", DATA, items, default_mode, optional=False) == expected


def test_decimal_420_is_0644() -> None:
    """The API's decimal 420 is the octal 0644 everyone writes in YAML."""
    assert file_mode(420, 0) == 0o644
    assert file_mode(None, 0o600) == 0o600


@pytest.mark.parametrize("mode", [-1, 0o1000, "0644", True])
def test_bad_modes_are_refused(mode: Any) -> None:
    """Modes outside 0..0777 (or not numbers) fail."""
    with pytest.raises(VolumeError):
        file_mode(mode, DEFAULT_MODE)


def test_missing_object_fails_unless_optional() -> None:
    """A missing ConfigMap is an error; an optional one projects nothing."""
    with pytest.raises(VolumeError, match="not found"):
        key_payload('configmap "x"', None, None, DEFAULT_MODE, optional=False)
    assert key_payload('configmap "x"', None, None, DEFAULT_MODE, optional=True) == {}


def test_missing_key_fails_unless_optional() -> None:
    """An item naming a key the object lacks fails; optional sources skip it."""
    items = [{"key": "nope", "path": "n"}, {"key": "a", "path": "a"}]
    with pytest.raises(VolumeError, match="non-existent key 'nope'"):
        key_payload("configmap x", DATA, items, DEFAULT_MODE, optional=False)
    assert set(key_payload("configmap x", DATA, items, DEFAULT_MODE, optional=True)) == {"a"}


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../x", "a/../../x", "..data", "..x/y"])
def test_unsafe_paths_are_refused(path: str) -> None:
    """Absolute paths, '..' elements and the writer's own '..' prefix are refused."""
    with pytest.raises(VolumeError):
        check_relative_path(path)


def test_safe_paths_are_normalised() -> None:
    """Redundant separators and '.' elements are dropped."""
    assert check_relative_path("a//./b.txt") == "a/b.txt"
    assert check_relative_path(".hidden") == ".hidden"


def test_object_data_decoding() -> None:
    """ConfigMap data is text, binaryData and Secret data are base64."""
    raw = bytes(range(5))
    cm = {"data": {"t": "héllo"}, "binaryData": {"b": base64.b64encode(raw).decode()}}
    assert configmap_data(cm) == {"t": "héllo".encode(), "b": raw}
    assert secret_data({"data": {"k": base64.b64encode(b"pw").decode()}}) == {"k": b"pw"}
    with pytest.raises(VolumeError, match="base64"):
        secret_data({"data": {"k": "not base64!"}})


POD: dict[str, Any] = {
    "metadata": {
        "name": "web",
        "namespace": "prod",
        "uid": "u-1",
        "labels": {"tier": "front", "app": "web"},
        "annotations": {"note": 'say "hi"\nbye'},
    },
    "spec": {
        "containers": [
            {"name": "c", "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "250m"}}},
            {"name": "bare"},
        ]
    },
}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("metadata.name", "web"),
        ("metadata.namespace", "prod"),
        ("metadata.uid", "u-1"),
        ("metadata.labels", 'app="web"\ntier="front"'),
        ("metadata.annotations", 'note="say \\"hi\\"\\nbye"'),
        ("metadata.labels['tier']", "front"),
        ("metadata.annotations['missing']", ""),
    ],
)
def test_field_values(field: str, expected: str) -> None:
    """Downward API fields as the kubelet writes them (maps sorted, values quoted)."""
    assert field_value(POD, field) == expected


def test_unsupported_field_fails() -> None:
    """Fields a volume may not use (spec.nodeName) are refused."""
    with pytest.raises(VolumeError):
        field_value(POD, "spec.nodeName")


@pytest.mark.parametrize(
    ("container", "resource", "divisor", "expected"),
    [
        ("c", "limits.cpu", "1m", "500"),
        ("c", "limits.cpu", None, "1"),
        ("c", "requests.cpu", "1m", "250"),
        ("c", "limits.memory", "1Mi", "64"),
        ("bare", "limits.cpu", None, "4"),
        ("bare", "limits.memory", "1Gi", "8"),
        ("bare", "requests.memory", None, "0"),
    ],
)
def test_resource_values(container: str, resource: str, divisor: str | None, expected: str) -> None:
    """Resources rounded up in divisor units; unset limits are the node's, unset requests 0."""
    ref = {"containerName": container, "resource": resource, "divisor": divisor}
    assert resource_value(POD, ref, no_node) == expected


def test_downward_payload() -> None:
    """Items become files with their own or the default mode."""
    items = [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "meta/name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o600},
    ]
    assert downward_payload(POD, items, 0o644, no_node) == {
        "labels": FileContent(b'app="web"\ntier="front"', 0o644),
        "meta/name": FileContent(b"web", 0o600),
    }


def test_format_map_empty() -> None:
    """No labels make an empty file."""
    assert format_map({}) == ""
