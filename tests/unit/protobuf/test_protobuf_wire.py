"""Reading the wire format: varints, signs, field framing."""

from __future__ import annotations

import pytest

from edgekube.api.protobuf.wire import (
    FIXED32,
    FIXED64,
    LENGTH,
    VARINT,
    WireError,
    read_fields,
    read_varint,
    signed32,
    signed64,
)
from tests.unit.protobuf.encoding import length_delimited, tag, varint, varint_field


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31 - 1, 2**32, 2**63 - 1, 2**64 - 1])
def test_varint_round_trip(value: int) -> None:
    """Unsigned varints of every width read back, and the offset lands just past them."""
    data = varint(value) + b"\xaa"
    assert read_varint(data, 0) == (value, len(data) - 1)


@pytest.mark.parametrize(
    ("value", "as32", "as64"),
    [
        (0, 0, 0),
        (5, 5, 5),
        (-1, -1, -1),
        (-5, -5, -5),
        (-(2**31), -(2**31), -(2**31)),
        (2**31 - 1, 2**31 - 1, 2**31 - 1),
    ],
)
def test_signs(value: int, as32: int, as64: int) -> None:
    """Go writes negative int32 and int64 as ten-byte two's complement varints."""
    raw, _ = read_varint(varint(value), 0)
    assert signed32(raw) == as32
    assert signed64(raw) == as64


def test_read_fields_all_wire_types() -> None:
    """Varint, length-delimited, 64-bit and 32-bit fields come back in order with their numbers."""
    data = (
        varint_field(1, 150)
        + length_delimited(2, b"hi")
        + tag(3, FIXED64)
        + (7).to_bytes(8, "little")
        + tag(4, FIXED32)
        + (9).to_bytes(4, "little")
        + varint_field(1000, 1)
    )
    assert read_fields(data) == [
        (1, VARINT, 150),
        (2, LENGTH, b"hi"),
        (3, FIXED64, 7),
        (4, FIXED32, 9),
        (1000, VARINT, 1),
    ]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x08", "truncated varint"),
        (b"\x08\x80", "truncated varint"),
        (b"\x12\x05abc", "claims 5 bytes; 3 remain"),
        (b"\x19" + bytes(7), "truncated 64-bit"),
        (b"\x25" + bytes(3), "truncated 32-bit"),
        (b"\x0b", "wire type 3"),
        (b"\x0c", "wire type 4"),
        (b"\x08" + b"\xff" * 10 + b"\x01", "longer than 10 bytes"),
    ],
)
def test_malformed(data: bytes, words: str) -> None:
    """Truncated, overlong and group fields raise WireError naming the problem."""
    with pytest.raises(WireError, match=words):
        read_fields(data)
