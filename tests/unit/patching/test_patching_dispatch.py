"""Content types: which are accepted, and how unknown types and bad bodies are refused."""

from __future__ import annotations

import pytest

from edgekube.errors import BadRequest, UnsupportedMediaType
from edgekube.resources.patching import SUPPORTED, apply_patch


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/merge-patch+json", b'{"a": 2}'),
        ("application/strategic-merge-patch+json", b'{"a": 2}'),
        ("application/json-patch+json", b'[{"op": "replace", "path": "/a", "value": 2}]'),
        ("Application/Merge-Patch+JSON; charset=utf-8", b'{"a": 2}'),
    ],
    ids=["merge", "strategic", "json", "with-parameters"],
)
def test_supported_types(content_type: str, body: bytes) -> None:
    """Every supported content type, parameters and case aside, patches the object."""
    assert apply_patch(content_type, {"a": 1}, body, schema=None, definition=None) == {"a": 2}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_unknown_type(content_type: str) -> None:
    """An unknown content type is a 415 that lists the supported ones."""
    with pytest.raises(UnsupportedMediaType) as caught:
        apply_patch(content_type, {}, b"{}", schema=None, definition=None)
    assert caught.value.code == 415
    for supported in SUPPORTED:
        assert supported in caught.value.message


def test_server_side_apply() -> None:
    """Server-side apply is a 415 that points to client-side kubectl apply."""
    with pytest.raises(UnsupportedMediaType, match=r"server-side apply .*`kubectl apply"):
        apply_patch("application/apply-patch+yaml", {}, b"a: 1", schema=None, definition=None)


@pytest.mark.parametrize("content_type", SUPPORTED)
@pytest.mark.parametrize(
    ("body", "message"),
    [(b"", "empty"), (b"{", "unexpected end of data"), (b"[1,]", "trailing comma")],
    ids=["empty", "truncated", "trailing-comma"],
)
def test_unparsable_body(content_type: str, body: bytes, message: str) -> None:
    """A body that is not JSON is a 400 carrying the parser's message."""
    with pytest.raises(BadRequest, match=message) as caught:
        apply_patch(content_type, {}, body, schema=None, definition=None)
    assert caught.value.code == 400
