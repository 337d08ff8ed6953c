"""The protobuf wire format, read: tags, varints and length-delimited payloads.

Only what Kubernetes messages use is accepted: varints (wire type 0), 64-bit (1),
length-delimited (2) and 32-bit (5) values. Groups (3, 4) are refused, as are varints longer
than ten bytes and payloads that run past the end of their buffer: every error is a
`WireError` that names the byte offset, so a truncated or corrupt body never decodes
into something plausible.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT = 0
FIXED64 = 1
LENGTH = 2
FIXED32 = 5

WIRE_NAMES = {VARINT: "varint", FIXED64: "64-bit", LENGTH: "length-delimited", FIXED32: "32-bit"}

_MAX_VARINT_BYTES = 10


class WireError(ValueError):
    """The bytes are not well-formed protobuf."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at `pos` and the offset just past it."""
    size = len(buf)
    if pos >= size:
        raise WireError(f"truncated varint at byte {pos}")
    byte = buf[pos]
    if byte < 0x80:  # most tags and lengths fit in one byte
        return byte, pos + 1
    start = pos
    result = byte & 0x7F
    shift = 7
    pos += 1
    while pos < size:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 7 * _MAX_VARINT_BYTES:
            raise WireError(f"varint longer than {_MAX_VARINT_BYTES} bytes at byte {start}")
    raise WireError(f"truncated varint at byte {start}")


def read_fields(buf: bytes) -> list[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field, in order.

    The value is an int for varint and fixed-width fields (unsigned; callers apply signs)
    and the payload bytes for length-delimited fields.
    """
    fields: list[tuple[int, int, int | bytes]] = []
    pos = 0
    size = len(buf)
    while pos < size:
        start = pos
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {start}")
        value: int | bytes
        if wire == LENGTH:
            length, pos = read_varint(buf, pos)
            if length > size - pos:
                raise WireError(f"field {number} at byte {start} claims {length} bytes; {size - pos} remain")
            value = buf[pos : pos + length]
            pos += length
        elif wire == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire == FIXED64 or wire == FIXED32:
            width = 8 if wire == FIXED64 else 4
            if width > size - pos:
                raise WireError(f"truncated {WIRE_NAMES[wire]} field {number} at byte {start}")
            value = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
        else:
            raise WireError(f"unsupported wire type {wire} for field {number} at byte {start}")
        fields.append((number, wire, value))
    return fields


def iter_packed_varints(buf: bytes) -> Iterator[int]:
    """The varints of a packed repeated scalar field."""
    pos = 0
    while pos < len(buf):
        value, pos = read_varint(buf, pos)
        yield value


def signed64(value: int) -> int:
    """A varint read as Go's int64 (two's complement over 64 bits)."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def signed32(value: int) -> int:
    """A varint read as Go's int32: negative int32s arrive sign-extended to 64 bits."""
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >= 1 << 31 else value
