"""Bodies that are not protobuf, not ours or not whole: each refused with a message that says why."""

from __future__ import annotations

import pytest

from edgekube.api.protobuf import decode_protobuf
from edgekube.errors import ApiError, BadRequest, UnsupportedMediaType
from tests.unit.protobuf.encoding import encode_body, envelope, length_delimited, tag, varint, varint_field
from tests.unit.protobuf.samples import CONFIGMAP

GOOD = encode_body(CONFIGMAP)


def _configmap(raw: bytes) -> bytes:
    return envelope("v1", "ConfigMap", raw)


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (b"", BadRequest, "magic"),
        (b'{"kind": "ConfigMap"}', BadRequest, "magic"),
        (b"k8s\x01" + GOOD[4:], BadRequest, "magic"),
        (b"k8s\x00", BadRequest, "names no kind"),
        (GOOD[:-7], BadRequest, "claims"),
        (b"k8s\x00" + tag(1, 2) + b"\xff", BadRequest, "truncated varint"),
        (b"k8s\x00" + varint_field(1, 5), BadRequest, "length-delimited"),
        (b"k8s\x00" + tag(1, 3), BadRequest, "wire type 3"),
        (b"k8s\x00" + b"\x80" * 11, BadRequest, "varint longer"),
        (b"k8s\x00" + b"\x00\x00", BadRequest, "field number 0"),
        (
            envelope("rbac.authorization.k8s.io/v1", "Role", b""),
            UnsupportedMediaType,
            "rbac.authorization.k8s.io/v1/Role",
        ),
        (envelope("apps/v1", "ConfigMap", b""), UnsupportedMediaType, "apps/v1/ConfigMap"),
        (envelope("v1", "ConfigMap", b"", encoding="gzip"), UnsupportedMediaType, "gzip"),
        (envelope("v1", "ConfigMap", b"", content_type="application/json"), UnsupportedMediaType, "application/json"),
    ],
    ids=[
        "empty",
        "json",
        "wrong-magic",
        "magic-only",
        "truncated",
        "truncated-varint",
        "unknown-not-length-delimited",
        "group-wire-type",
        "endless-varint",
        "field-zero",
        "unserved-kind",
        "kind-in-wrong-group",
        "compressed",
        "json-inside",
    ],
)
def test_refused(body: bytes, error: type[ApiError], words: str) -> None:
    """The envelope is checked before anything is decoded; the error says what is wrong."""
    with pytest.raises(error) as caught:
        decode_protobuf(body)
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        # metadata (1) as a varint instead of a message
        (varint_field(1, 7), "metadata: expected meta.v1.ObjectMeta but found a varint value"),
        # metadata.name (1) as a varint instead of a string
        (length_delimited(1, varint_field(1, 7)), "metadata.name: expected string"),
        # immutable (4, a bool) as a string
        (length_delimited(4, b"yes"), "immutable: expected bool but found a length-delimited value"),
        # a data entry (2) whose bytes are cut short
        (length_delimited(2, b"\x0a\x05ab"), "data: field 1 at byte 0 claims 5 bytes"),
        # a label map entry whose key is a varint
        (length_delimited(1, length_delimited(11, varint_field(1, 1))), "metadata.labels: map key"),
        # creationTimestamp (8) with nanos out of range
        (length_delimited(1, length_delimited(8, varint_field(2, 2_000_000_000))), "time out of range"),
        # managedFields[0].fieldsV1 that is not JSON
        (
            length_delimited(1, length_delimited(17, length_delimited(7, length_delimited(1, b"{nope")))),
            "metadata.managedFields.fieldsV1: fieldsV1 is not JSON",
        ),
    ],
    ids=[
        "message-as-varint",
        "string-as-varint",
        "bool-as-bytes",
        "short-entry",
        "bad-map-key",
        "bad-time",
        "bad-fields",
    ],
)
def test_malformed_object(raw: bytes, words: str) -> None:
    """Bad bytes inside the object are a 400 that names the JSON path of the field."""
    with pytest.raises(BadRequest) as caught:
        decode_protobuf(_configmap(raw))
    assert "not a valid v1/ConfigMap" in caught.value.message
    assert words in caught.value.message


def test_unknown_field_with_a_value_is_refused() -> None:
    """A field this server does not know, holding a value, is refused by message and number."""
    raw = length_delimited(1, length_delimited(1, b"x") + varint_field(99, 3))
    with pytest.raises(BadRequest) as caught:
        decode_protobuf(_configmap(raw))
    assert "field number 99 (varint) of meta.v1.ObjectMeta is not known" in caught.value.message
    assert "metadata:" in caught.value.message


@pytest.mark.parametrize(
    "extra",
    [varint_field(99, 0), length_delimited(98, b""), tag(97, 1) + bytes(8), tag(96, 5) + bytes(4)],
    ids=["zero-varint", "empty-bytes", "zero-fixed64", "zero-fixed32"],
)
def test_unknown_empty_field_is_skipped(extra: bytes) -> None:
    """A newer client's unset non-pointer field (written as its zero value) is skipped."""
    raw = length_delimited(1, length_delimited(1, b"x") + extra)
    assert decode_protobuf(_configmap(raw)) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}


def test_unknown_envelope_fields_are_ignored() -> None:
    """runtime.Unknown fields past contentType carry nothing for us and do not fail the body."""
    body = GOOD + length_delimited(9, b"future")
    assert decode_protobuf(body) == CONFIGMAP


def test_delete_options_under_any_group_version() -> None:
    """DeleteOptions is registered in every group-version; any apiVersion label is accepted."""
    raw = varint_field(1, 30)  # gracePeriodSeconds
    for api_version in ("v1", "apps/v1", "meta.k8s.io/v1"):
        decoded = decode_protobuf(envelope(api_version, "DeleteOptions", raw))
        assert decoded == {"apiVersion": api_version, "kind": "DeleteOptions", "gracePeriodSeconds": 30}


def test_invalid_utf8_is_replaced() -> None:
    """Bad UTF-8 in a string becomes U+FFFD, as Go's JSON encoder would write it."""
    raw = length_delimited(1, length_delimited(1, b"a\xffb"))
    assert decode_protobuf(_configmap(raw))["metadata"]["name"] == "a\ufffdb"


def test_negative_int64_as_ten_bytes() -> None:
    """Negative numbers arrive sign-extended to ten-byte varints and decode negative."""
    raw = length_delimited(1, tag(10, 0) + varint(-5))  # deletionGracePeriodSeconds
    assert decode_protobuf(_configmap(raw))["metadata"]["deletionGracePeriodSeconds"] == -5
