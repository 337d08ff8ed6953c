"""JSON merge patch (RFC 7386): null deletes, objects merge, everything else replaces."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from edgekube.errors import BadRequest
from edgekube.resources.patching import MERGE_PATCH, apply_patch


def _merge(original: dict[str, Any], patch: Any) -> dict[str, Any]:
    return apply_patch(MERGE_PATCH, original, orjson.dumps(patch), schema=None, definition=None)


CASES = [
    ("replace-scalar", {"a": "b"}, {"a": "c"}, {"a": "c"}),
    ("add-key", {"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ("null-deletes", {"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ("null-on-missing-key-is-noop", {"a": 1}, {"z": None}, {"a": 1}),
    (
        "nested-merge",
        {"a": {"x": 1, "y": 2}},
        {"a": {"y": 3, "z": 4}},
        {"a": {"x": 1, "y": 3, "z": 4}},
    ),
    ("nested-null-deletes", {"a": {"x": 1, "y": 2}}, {"a": {"x": None}}, {"a": {"y": 2}}),
    ("list-replaced-whole", {"a": [1, 2, 3]}, {"a": [4]}, {"a": [4]}),
    ("list-of-objects-replaced", {"a": [{"n": 1, "v": 1}]}, {"a": [{"n": 1}]}, {"a": [{"n": 1}]}),
    ("object-replaces-scalar", {"a": "x"}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ("scalar-replaces-object", {"a": {"b": 1}}, {"a": 7}, {"a": 7}),
    ("new-object-drops-nulls", {}, {"a": {"b": None, "c": 1}}, {"a": {"c": 1}}),
    ("null-inside-list-kept", {}, {"a": [None, 1]}, {"a": [None, 1]}),
    ("empty-patch-is-noop", {"a": {"b": [1]}}, {}, {"a": {"b": [1]}}),
    ("false-and-zero-are-values", {"a": True, "b": 5}, {"a": False, "b": 0}, {"a": False, "b": 0}),
    ("directive-keys-are-plain-data", {}, {"$patch": "delete"}, {"$patch": "delete"}),
]


@pytest.mark.parametrize(
    ("original", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_merge_patch(original: dict[str, Any], patch: Any, expected: dict[str, Any]) -> None:
    """Each RFC 7386 rule gives the expected object and leaves the original alone."""
    before = copy.deepcopy(original)
    assert _merge(original, patch) == expected
    assert original == before


def test_result_shares_nothing_with_original() -> None:
    """Changing the result afterwards cannot reach into the original."""
    original: dict[str, Any] = {"a": {"b": [1]}, "c": {"d": 1}}
    result = _merge(original, {"c": {"e": 2}})
    result["a"]["b"].append(2)
    assert original == {"a": {"b": [1]}, "c": {"d": 1}}


@pytest.mark.parametrize(
    "patch", [[{"a": 1}], "text", 3, None], ids=["array", "string", "number", "null"]
)
def test_patch_must_be_an_object(patch: Any) -> None:
    """A merge patch that is not a JSON object is a bad request."""
    with pytest.raises(BadRequest, match="merge patch must be a JSON object"):
        _merge({"a": 1}, patch)


def test_unparsable_body() -> None:
    """A body that is not JSON is a bad request quoting the parser."""
    with pytest.raises(BadRequest, match=r"invalid application/merge-patch\+json body: .*line 1"):
        apply_patch(MERGE_PATCH, {}, b'{"a": ', schema=None, definition=None)
