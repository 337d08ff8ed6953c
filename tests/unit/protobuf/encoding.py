"""A test-only protobuf encoder over our message tables, writing what Go's gogo-protobuf writes.

Like the generated Go marshallers it emits every non-pointer field, zero or not (empty
strings, 0, false, empty messages, a zero Time as an empty message), and a pointer field
only when the dict has the key. Map entries are sorted by key. Repeated scalars are written
unpacked, as proto2 does, unless `packed=True`.

It exists so the decoder can be tested without Go; keys the tables do not know are an error
here, so a test cannot pass by encoding less than it claims.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

from edgekube.api.protobuf import MAGIC
from edgekube.api.protobuf.bodies import ANY_VERSION_KINDS, KINDS
from edgekube.api.protobuf.fields import Field, fields_of
from edgekube.api.protobuf.wire import LENGTH, VARINT


def varint(value: int) -> bytes:
    value &= 0xFFFF_FFFF_FFFF_FFFF  # negative numbers as Go writes them: ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def length_delimited(number: int, payload: bytes) -> bytes:
    return tag(number, LENGTH) + varint(len(payload)) + payload


def varint_field(number: int, value: int) -> bytes:
    return tag(number, VARINT) + varint(value)


def encode_body(obj: dict[str, Any], *, packed: bool = False) -> bytes:
    """A whole request body: magic, runtime.Unknown{typeMeta, raw}."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    message = KINDS.get((api_version, kind)) or ANY_VERSION_KINDS[kind]
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    return envelope(api_version, kind, encode_message(message, rest, packed=packed))


def envelope(api_version: str, kind: str, raw: bytes, *, encoding: str = "", content_type: str = "") -> bytes:
    """Magic and a runtime.Unknown around `raw`, with every field written as gogo does."""
    type_meta = length_delimited(1, api_version.encode()) + length_delimited(2, kind.encode())
    unknown = (
        length_delimited(1, type_meta)
        + length_delimited(2, raw)
        + length_delimited(3, encoding.encode())
        + length_delimited(4, content_type.encode())
    )
    return MAGIC + unknown


def encode_message(message: str, obj: dict[str, Any], *, packed: bool = False) -> bytes:
    fields = fields_of(message)
    _check_keys(message, fields, obj)
    out = bytearray()
    for number in sorted(fields):
        field = fields[number]
        if field.inline:
            inner = {f.json for f in fields_of(field.base).values()}
            embedded = {k: v for k, v in obj.items() if k in inner}
            out += length_delimited(number, encode_message(field.base, embedded, packed=packed))
            continue
        present = field.json in obj
        value = obj.get(field.json)
        if field.map:
            entries: dict[str, Any] = value or {}
            for key in sorted(entries):
                entry = length_delimited(1, key.encode()) + _encode_value(field, 2, entries[key], packed)
                out += length_delimited(number, entry)
        elif field.repeated:
            items = value or []
            if packed and field.base in ("int32", "int64", "bool") and items:
                out += length_delimited(number, b"".join(varint(int(v)) for v in items))
            else:
                for item in items:
                    out += _encode_value(field, number, item, packed)
        elif field.pointer:
            if present:
                out += _encode_value(field, number, value, packed)
        else:
            out += _encode_value(field, number, value, packed)
    return bytes(out)


def _check_keys(message: str, fields: dict[int, Field], obj: dict[str, Any]) -> None:
    known: set[str] = set()
    for field in fields.values():
        if field.inline:
            known |= {f.json for f in fields_of(field.base).values()}
        else:
            known.add(field.json)
    unknown = set(obj) - known
    if unknown:
        raise KeyError(f"{message} has no fields {sorted(unknown)}")


def _encode_value(field: Field, number: int, value: Any, packed: bool) -> bytes:
    base = field.base
    if base == "string":
        return length_delimited(number, (value or "").encode())
    if base == "bytes":
        return length_delimited(number, base64.b64decode(value or ""))
    if base in ("int32", "int64"):
        return varint_field(number, int(value or 0))
    if base == "bool":
        return varint_field(number, 1 if value else 0)
    if base in ("Time", "MicroTime"):
        return length_delimited(number, _time(value))
    if base == "Quantity":
        return length_delimited(number, length_delimited(1, str(value or "0").encode()))
    if base == "IntOrString":
        return length_delimited(number, _int_or_string(value))
    if base == "FieldsV1":
        return length_delimited(number, length_delimited(1, orjson.dumps(value or {})))
    return length_delimited(number, encode_message(base, value or {}, packed=packed))


def _time(value: str | None) -> bytes:
    if not value:
        return b""  # Go's zero time.Time marshals to an empty message
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    seconds = int(moment.timestamp() // 1)
    return varint_field(1, seconds) + varint_field(2, moment.microsecond * 1000)


def _int_or_string(value: int | str | None) -> bytes:
    if isinstance(value, str):
        return varint_field(1, 1) + varint_field(2, 0) + length_delimited(3, value.encode())
    return varint_field(1, 0) + varint_field(2, int(value or 0)) + length_delimited(3, b"")
