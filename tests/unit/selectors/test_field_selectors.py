"""Parsing and matching `fieldSelector` text."""

from __future__ import annotations

import pytest

from edgekube.errors import BadRequest
from edgekube.resources.selectors import parse_field_selector

POD = {"metadata.name": "web-1", "metadata.namespace": "default", "spec.nodeName": "pi-1"}


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("metadata.name=web-1", "metadata.name=web-1"),
        ("metadata.name==web-1", "metadata.name=web-1"),
        ("spec.nodeName!=pi-1", "spec.nodeName!=pi-1"),
        ("spec.nodeName=", "spec.nodeName="),
        ("b=2,a=1", "a=1,b=2"),
        (" a = 1 , b!=2 ", "a=1,b!=2"),
        ("a=1,,b=2,", "a=1,b=2"),
        (r"a=x\,y", r"a=x\,y"),
        (r"a=x\=y\\z", r"a=x\=y\\z"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    """Terms print sorted by field, `==` as `=`, with special characters escaped again."""
    assert str(parse_field_selector(text)) == canonical


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        (r"a=x\,y", "a", "x,y"),
        (r"a=x\=y", "a", "x=y"),
        (r"a=x\\y", "a", "x\\y"),
        ("a=x=y", "a", "x=y"),
        ("a==", "a", ""),
    ],
)
def test_escapes_and_values(text: str, field: str, value: str) -> None:
    """Backslash escapes `,`, `=` and itself; only the first operator splits a term."""
    assert parse_field_selector(text).exact(field) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("metadata.name=web-1", True),
        ("metadata.name=web-2", False),
        ("metadata.name!=web-2", True),
        ("spec.nodeName=pi-1,metadata.namespace=default", True),
        ("spec.nodeName=pi-1,metadata.namespace=kube-system", False),
        ("status.phase=", True),
        ("status.phase!=", False),
        ("status.phase=Running", False),
    ],
)
def test_matches(text: str, expected: bool) -> None:
    """All terms must hold; a field without a value reads as the empty string."""
    assert parse_field_selector(text).matches(POD) is expected


@pytest.mark.parametrize(
    ("text", "field", "exact"),
    [
        ("metadata.name=web-1", "metadata.name", "web-1"),
        ("metadata.name!=web-1", "metadata.name", None),
        ("spec.nodeName=pi-1,metadata.name=x", "spec.nodeName", "pi-1"),
        ("spec.nodeName=", "spec.nodeName", ""),
        ("", "metadata.name", None),
    ],
)
def test_exact(text: str, field: str, exact: str | None) -> None:
    """`exact` gives the pinned value only for `=`, so callers can narrow a query."""
    assert parse_field_selector(text).exact(field) == exact


def test_fields_and_supported_check() -> None:
    """`fields` lists the names used; an unsupported one is a 400 naming it."""
    selector = parse_field_selector("metadata.name=a,spec.foo=b")
    assert selector.fields == {"metadata.name", "spec.foo"}
    with pytest.raises(BadRequest, match=r"^field label not supported: spec\.foo$"):
        selector.check_supported({"metadata.name", "metadata.namespace"})
    selector.check_supported({"metadata.name", "spec.foo"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata.name", "can't understand 'metadata.name'"),
        ("a=1,b", "can't understand 'b'"),
        ("=x", "can't understand '=x'"),
        (r"a=x\y", r"invalid escape sequence '\y'"),
        ("a=x\\", "invalid escape sequence"),
    ],
)
def test_errors(text: str, message: str) -> None:
    """A term without an operator or field, or a bad escape, is a 400."""
    with pytest.raises(BadRequest) as caught:
        parse_field_selector(text)
    assert message in caught.value.message
