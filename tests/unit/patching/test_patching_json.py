"""JSON patch (RFC 6902): each operation, and errors that name the failing operation."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from edgekube.errors import BadRequest
from edgekube.resources.patching import JSON_PATCH, apply_patch


def _json_patch(original: dict[str, Any], ops: Any) -> dict[str, Any]:
    return apply_patch(JSON_PATCH, original, orjson.dumps(ops), schema=None, definition=None)


DOC: dict[str, Any] = {
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"ports": [80, 443]},
}

CASES = [
    (
        "add-member",
        [{"op": "add", "path": "/metadata/labels/tier", "value": "front"}],
        {
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
            "spec": {"ports": [80, 443]},
        },
    ),
    (
        "add-to-list-end",
        [{"op": "add", "path": "/spec/ports/-", "value": 8080}],
        {"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"ports": [80, 443, 8080]}},
    ),
    (
        "insert-into-list",
        [{"op": "add", "path": "/spec/ports/0", "value": 22}],
        {"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"ports": [22, 80, 443]}},
    ),
    (
        "remove",
        [{"op": "remove", "path": "/metadata/labels"}],
        {"metadata": {"name": "web"}, "spec": {"ports": [80, 443]}},
    ),
    (
        "replace",
        [{"op": "replace", "path": "/spec/ports/1", "value": 8443}],
        {"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"ports": [80, 8443]}},
    ),
    (
        "move",
        [{"op": "move", "from": "/metadata/labels", "path": "/spec/labels"}],
        {"metadata": {"name": "web"}, "spec": {"ports": [80, 443], "labels": {"app": "web"}}},
    ),
    (
        "copy",
        [{"op": "copy", "from": "/metadata/name", "path": "/spec/name"}],
        {
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"ports": [80, 443], "name": "web"},
        },
    ),
    (
        "test-then-replace",
        [
            {"op": "test", "path": "/metadata/name", "value": "web"},
            {"op": "replace", "path": "/metadata/name", "value": "api"},
        ],
        {"metadata": {"name": "api", "labels": {"app": "web"}}, "spec": {"ports": [80, 443]}},
    ),
    ("empty-list-is-noop", [], DOC),
]


@pytest.mark.parametrize(("ops", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_operations(ops: list[Any], expected: dict[str, Any]) -> None:
    """Each operation gives the expected object and leaves the original alone."""
    original = copy.deepcopy(DOC)
    assert _json_patch(original, ops) == expected
    assert original == DOC


ERRORS = [
    ("not-a-list", {"op": "add"}, "must be an array of operations, not an object"),
    ("op-not-object", [1], "operation 0: Operation must be an object"),
    ("unknown-op", [{"op": "frob", "path": "/a"}], r"operation 0 \(frob '/a'\): Unknown operation"),
    ("missing-value", [{"op": "add", "path": "/a"}], "operation 0 .*'value'"),
    (
        "test-fails",
        [{"op": "test", "path": "/metadata/name", "value": "db"}],
        "operation 0 \\(test '/metadata/name'\\): test failed",
    ),
    (
        "remove-missing-path",
        [{"op": "add", "path": "/x", "value": 1}, {"op": "remove", "path": "/spec/missing"}],
        "operation 1 \\(remove '/spec/missing'\\): path not found",
    ),
    ("replace-missing-path", [{"op": "replace", "path": "/nope", "value": 1}], "path not found"),
    ("relative-pointer", [{"op": "add", "path": "a", "value": 1}], "must start with /"),
    ("bad-list-index", [{"op": "add", "path": "/spec/ports/x", "value": 1}], "valid sequence"),
    ("root-becomes-list", [{"op": "replace", "path": "", "value": [1]}], "must stay an object"),
]


@pytest.mark.parametrize(("ops", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors(ops: Any, message: str) -> None:
    """A patch that cannot apply is a bad request saying which operation failed and why."""
    original = copy.deepcopy(DOC)
    with pytest.raises(BadRequest, match=message):
        _json_patch(original, ops)
    assert original == DOC


def test_failed_test_message_stays_short() -> None:
    """A failed test does not echo a large document back into the error."""
    big = {"data": {f"k{i}": "v" * 50 for i in range(100)}}
    with pytest.raises(BadRequest) as caught:
        _json_patch(big, [{"op": "test", "path": "/missing", "value": 1}])
    assert len(caught.value.message) < 400
