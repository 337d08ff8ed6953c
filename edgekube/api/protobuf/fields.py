"""The message tables of `messages.py`, compiled into `Field`s the decoder can use directly.

Each type string (`"[]core.v1.Container"`, `"map[string]Quantity"`, ...) is parsed once, the
first time a message is needed, and checked: every message a field names must itself be in
the table, so a typo in the data fails loudly instead of as an unknown field at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from edgekube.api.protobuf.messages import MESSAGES

SCALARS = frozenset({"string", "bytes", "int32", "int64", "bool"})
# Messages with a JSON form of their own (a string, a number or raw JSON), decoded by code.
SPECIALS = frozenset({"Time", "MicroTime", "Quantity", "IntOrString", "FieldsV1"})


# How a value is read; ints rather than strings so the decoder's dispatch stays cheap.
STRING, BYTES, INT32, INT64, BOOL, MESSAGE, TIME, MICRO_TIME, QUANTITY, INT_OR_STRING, FIELDS_V1 = range(11)
_KINDS = {
    "string": STRING,
    "bytes": BYTES,
    "int32": INT32,
    "int64": INT64,
    "bool": BOOL,
    "Time": TIME,
    "MicroTime": MICRO_TIME,
    "Quantity": QUANTITY,
    "IntOrString": INT_OR_STRING,
    "FieldsV1": FIELDS_V1,
}
VARINT_KINDS = frozenset({INT32, INT64, BOOL})


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message: where it goes in JSON and how to read it."""

    number: int
    json: str  # "" for an embedded struct inlined into its parent
    base: str  # a scalar, a special, or a message name
    repeated: bool = False
    map: bool = False  # map<string, base>: repeated entries of key=1, value=2
    pointer: bool = False  # a Go pointer: present means set, even when zero or empty
    kind: int = MESSAGE
    inline: bool = False


def parse_type(number: int, json: str, spec: str) -> Field:
    """A Field from its table entry, e.g. `(3, "ports", "[]core.v1.ServicePort")`."""
    repeated = spec.startswith("[]")
    is_map = spec.startswith("map[string]")
    rest = spec[2:] if repeated else spec[len("map[string]") :] if is_map else spec
    pointer = rest.startswith("*")
    base = rest.lstrip("*")
    if (repeated or is_map) and pointer:
        raise ValueError(f"field {number} ({json}): a list or map of pointers is not a Kubernetes shape: {spec!r}")
    if base not in SCALARS and base not in SPECIALS and base not in MESSAGES:
        raise ValueError(f"field {number} ({json}): unknown type {base!r}")
    if json == "" and (repeated or is_map or pointer or base in SCALARS or base in SPECIALS):
        raise ValueError(f"field {number}: only a plain embedded message can be inlined, not {spec!r}")
    return Field(number, json, base, repeated, is_map, pointer, _KINDS.get(base, MESSAGE), json == "")


@cache
def fields_of(message: str) -> dict[int, Field]:
    """The fields of `message` by number; KeyError when the table has no such message."""
    return {number: parse_type(number, json, spec) for number, (json, spec) in MESSAGES[message].items()}
