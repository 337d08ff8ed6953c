"""One protobuf message in, the JSON-shaped dict a Go client would have sent out.

Go's gogo-protobuf marshaller writes every non-pointer field, zero or not, and a pointer
field only when it is set; Go's JSON marshaller, for the same object, leaves out empty
`omitempty` fields. To give the API the body the client meant, the decoder keeps:

- a pointer field whenever it is on the wire, even as 0, false, "" or an empty message
  (Deployment `spec.replicas: 0`, `automountServiceAccountToken: false`, PVC
  `storageClassName: ""`, a volume's `emptyDir: {}`);
- a non-pointer field only when it is not its zero value: 0, false, "", an empty message,
  a zero Time, the Quantity "0" and the IntOrString 0 are dropped;
- every element of a list and every entry of a map, empty or not.

Which Go fields are pointers is data (`*` in messages.py), taken from the Go types of
k8s.io/api; nothing is guessed from the `+optional` comments. Embedded structs that Go inlines
(`VolumeSource` in `Volume`, `ProbeHandler` in `Probe`, ...) are merged into their parent.

Special messages have their JSON form: Time as RFC 3339 in UTC with whole seconds, MicroTime
with six fractional digits, Quantity as its string, IntOrString as a number or a string,
FieldsV1 as the JSON it carries. `bytes` become base64 text, as Go's JSON does.

A field number the table does not know is skipped when its value is empty (what an older
client's zero non-pointer field looks like) and refused otherwise, naming the message and
the number, so a newer client's setting is never silently lost.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from edgekube.api.protobuf.fields import (
    BOOL,
    BYTES,
    INT32,
    INT64,
    INT_OR_STRING,
    MESSAGE,
    MICRO_TIME,
    QUANTITY,
    STRING,
    TIME,
    VARINT_KINDS,
    Field,
    fields_of,
)
from edgekube.api.protobuf.wire import (
    LENGTH,
    VARINT,
    WIRE_NAMES,
    WireError,
    iter_packed_varints,
    read_fields,
    signed32,
    signed64,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Go's time.Time can hold years 1 to 9999 in RFC 3339; anything else is not a time a client sent.
_MIN_SECONDS = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


class ProtobufError(ValueError):
    """A body that does not decode, with the JSON path of the field where it failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []

    def __str__(self) -> str:
        where = ".".join(self.path)
        return f"{where}: {self.reason}" if where else self.reason


def decode_message(message: str, data: bytes) -> dict[str, Any]:
    """The JSON object for `data`, a serialized `message` (a key of messages.MESSAGES)."""
    fields = fields_of(message)
    out: dict[str, Any] = {}
    try:
        items = read_fields(data)
    except WireError as err:
        raise ProtobufError(str(err)) from err
    for number, wire, value in items:
        field = fields.get(number)
        if field is None:
            _check_unknown(message, number, wire, value)
            continue
        try:
            if field.map:
                key, entry = _decode_map_entry(field, wire, value)
                out.setdefault(field.json, {})[key] = entry
            elif field.repeated:
                _decode_repeated(field, wire, value, out.setdefault(field.json, []))
            elif field.inline:
                out.update(_value(field, wire, value))
            else:
                decoded = _value(field, wire, value)
                if decoded is not None and (field.pointer or not _is_zero(field, decoded)):
                    out[field.json] = decoded
                else:
                    out.pop(field.json, None)  # the last occurrence wins, as in protobuf
        except ProtobufError as err:
            err.path.insert(0, field.json or f"({field.base})")
            raise
    return out


def _check_unknown(message: str, number: int, wire: int, value: int | bytes) -> None:
    if value in (0, b""):
        return
    raise ProtobufError(
        f"field number {number} ({WIRE_NAMES[wire]}) of {message} is not known to this server;"
        " send the object as application/json"
    )


def _decode_repeated(field: Field, wire: int, value: int | bytes, items: list[Any]) -> None:
    if wire == LENGTH and field.kind in VARINT_KINDS and isinstance(value, bytes):
        try:  # a packed repeated scalar
            items.extend(_scalar(field.kind, v) for v in iter_packed_varints(value))
        except WireError as err:
            raise ProtobufError(str(err)) from err
    else:
        items.append(_value(field, wire, value))


def _is_zero(field: Field, value: Any) -> bool:
    """Whether a non-pointer field holds its Go zero value (which Go's JSON would omit)."""
    if field.kind == QUANTITY:
        return value in ("", "0")
    return not value


def _value(field: Field, wire: int, value: int | bytes) -> Any:
    """One value of `field` (not a map entry) in its JSON form."""
    kind = field.kind
    if kind in VARINT_KINDS:
        if wire != VARINT or not isinstance(value, int):
            raise _wrong_wire(field, wire)
        return _scalar(kind, value)
    if wire != LENGTH or not isinstance(value, bytes):
        raise _wrong_wire(field, wire)
    if kind == STRING:
        # Go's JSON encoder writes invalid UTF-8 as U+FFFD; do the same rather than refuse.
        return value.decode("utf-8", "replace")
    if kind == MESSAGE:
        return decode_message(field.base, value)
    if kind == BYTES:
        return base64.b64encode(value).decode("ascii")
    return _special(kind, value)


def _scalar(kind: int, value: int) -> int | bool:
    if kind == BOOL:
        return value != 0
    if kind == INT32:
        return signed32(value)
    return signed64(value)


def _decode_map_entry(field: Field, wire: int, data: int | bytes) -> tuple[str, Any]:
    """A map entry message: key=1 (string), value=2 (of the field's type)."""
    if wire != LENGTH or not isinstance(data, bytes):
        raise _wrong_wire(field, wire)
    key = ""
    entry: Any = None
    try:
        items = read_fields(data)
    except WireError as err:
        raise ProtobufError(str(err)) from err
    for number, item_wire, value in items:
        if number == 1:
            if item_wire != LENGTH or not isinstance(value, bytes):
                raise ProtobufError(f"map key must be length-delimited, not {WIRE_NAMES[item_wire]}")
            key = value.decode("utf-8", "replace")
        elif number == 2:
            entry = _value(field, item_wire, value)
        else:
            _check_unknown(f"a {field.json} map entry", number, item_wire, value)
    if entry is None:
        entry = _map_zero(field.kind)
    return key, entry


def _map_zero(kind: int) -> Any:
    """The value of a map entry that carries only its key (the Go zero value)."""
    if kind in (STRING, BYTES):
        return ""
    if kind == QUANTITY:
        return "0"
    if kind in (INT32, INT64):
        return 0
    if kind == BOOL:
        return False
    return {}


def _wrong_wire(field: Field, wire: int) -> ProtobufError:
    return ProtobufError(f"expected {field.base} but found a {WIRE_NAMES[wire]} value")


def _special(kind: int, data: bytes) -> Any:
    """Messages whose JSON form is a scalar (or raw JSON)."""
    try:
        items = read_fields(data)
    except WireError as err:
        raise ProtobufError(str(err)) from err
    if kind == TIME or kind == MICRO_TIME:
        return _time(items, micro=kind == MICRO_TIME)
    if kind == QUANTITY:
        # resource.Quantity: string=1, its canonical text.
        return next((_text(v) for n, _, v in items if n == 1), "")
    if kind == INT_OR_STRING:
        return _int_or_string(items)
    # FieldsV1: Raw=1, the JSON document of the managed fields.
    raw = next((v for n, _, v in items if n == 1 and isinstance(v, bytes)), b"")
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise ProtobufError(f"fieldsV1 is not JSON: {err}") from err


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a length-delimited string")
    return value.decode("utf-8", "replace")


def _time(items: list[tuple[int, int, int | bytes]], *, micro: bool) -> str | None:
    """meta.v1.Time / MicroTime: seconds=1 (int64), nanos=2 (int32) since the Unix epoch.

    Go writes the zero time as an empty message; that, and 0/0, mean "not set".
    """
    seconds = 0
    nanos = 0
    for number, wire, value in items:
        if wire != VARINT or not isinstance(value, int):
            raise ProtobufError(f"time field {number} must be a varint")
        if number == 1:
            seconds = signed64(value)
        elif number == 2:
            nanos = signed32(value)
    if seconds == 0 and nanos == 0:
        return None
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS or not 0 <= nanos < 1_000_000_000:
        raise ProtobufError(f"time out of range: seconds={seconds} nanos={nanos}")
    text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    # strftime pads years below 1000 inconsistently across platforms; RFC 3339 wants four digits.
    text = text.zfill(19)
    return f"{text}.{nanos // 1000:06d}Z" if micro else f"{text}Z"


def _int_or_string(items: list[tuple[int, int, int | bytes]]) -> int | str:
    """intstr.IntOrString: type=1 (0 int, 1 string), intVal=2 (int32), strVal=3 (string)."""
    kind = 0
    int_val = 0
    str_val = ""
    for number, _, value in items:
        if number == 1 and isinstance(value, int):
            kind = value
        elif number == 2 and isinstance(value, int):
            int_val = signed32(value)
        elif number == 3:
            str_val = _text(value)
        else:
            raise ProtobufError(f"malformed IntOrString field {number}")
    return str_val if kind == 1 else int_val
