"""Strict field checking of a request body against the schema, and pruning of unknown fields.

One walk over the object, led by its `Definition`, finds (a) fields the schema does not
declare, as Kubernetes names them in warnings and strict-validation errors
(`.spec.template.spec.containers[0].bogus`), and (b) values of the wrong JSON type, as
`Cause`s whose wording follows Kubernetes (`Invalid value: "abc": spec.replicas in body
must be of type integer: "string"`). With `prune=True` the same walk deletes the unknown
fields in place, as Kubernetes drops them before storing a built-in kind.

Invariants: a null value is treated as absent anywhere (no type check, not unknown);
inside a value of the wrong type nothing is looked at; the walk builds path strings
only when it reports something, so a clean object costs one dict lookup per field.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from edgekube.errors import Cause
from edgekube.resources.schema import Definition, FieldSchema, SchemaSet

# Number, then a binary or decimal suffix or an exponent: resource.ParseQuantity's grammar.
_QUANTITY = re.compile(
    r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
QUANTITY_MESSAGE = (
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
# RFC 3339 as Go's time.RFC3339 parses it (the 'T' is required).
_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
_SHOWN_MAX = 100  # characters of a bad value quoted back in a message


@dataclass
class FieldCheck:
    """What one walk found: unknown field paths and type problems."""

    unknown: list[str] = field(default_factory=list)  # ".spec.foo", in document order
    causes: list[Cause] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unknown and not self.causes


def check_fields(
    schema: SchemaSet, definition: Definition, obj: Any, *, prune: bool = False
) -> FieldCheck:
    """Walk `obj` against `definition`; with `prune`, delete the unknown fields in place."""
    walker = _Walker(schema.definitions, prune)
    if isinstance(obj, dict):
        walker.object(definition, obj, [])
    elif obj is not None:
        walker.type_error("object", obj, [])
    return walker.result


def prune(schema: SchemaSet, definition: Definition, obj: Any) -> list[str]:
    """Delete the fields of `obj` that `definition` does not declare; returns their paths."""
    return check_fields(schema, definition, obj, prune=True).unknown


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_base64(value: str) -> bool:
    # Go's decoder skips line breaks, so PEM-style wrapped data is valid there too.
    try:
        base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


# Scalar types and their test; "any" accepts everything and is not listed.
_SCALAR_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_int,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "int-or-string": lambda v: isinstance(v, str) or _is_int(v),
    "quantity": lambda v: isinstance(v, str) or _is_number(v),
    "time": lambda v: isinstance(v, str),
    "bytes": lambda v: isinstance(v, str),
}
_TYPE_WORDING = {"int-or-string": "integer or string", "quantity": "string or number",
                 "time": "string", "bytes": "string", "map": "object"}


class _Walker:
    """State of one walk. `path` holds segments (".spec", "[0]") of where we are."""

    __slots__ = ("definitions", "prune", "result")

    def __init__(self, definitions: dict[str, Definition], prune: bool) -> None:
        self.definitions = definitions
        self.prune = prune
        self.result = FieldCheck()

    def object(self, definition: Definition, value: dict[str, Any], path: list[str]) -> None:
        properties = definition.properties
        doomed: list[str] = []
        for key, item in value.items():
            fs = properties.get(key)
            if fs is None:
                self.result.unknown.append("".join(path) + "." + key)
                doomed.append(key)
            elif item is not None and fs.type != "any":
                path.append("." + key)
                self.value(fs, item, path)
                path.pop()
        if self.prune:
            for key in doomed:
                del value[key]

    def value(self, fs: FieldSchema, item: Any, path: list[str]) -> None:
        kind = fs.type
        if kind == "object":
            if not isinstance(item, dict):
                self.type_error("object", item, path)
                return
            definition = self.definitions.get(fs.ref)
            if definition is not None:
                self.object(definition, item, path)
        elif kind == "array":
            if not isinstance(item, list):
                self.type_error("array", item, path)
            elif fs.items is not None and fs.items.type != "any":
                for i, element in enumerate(item):
                    if element is not None:
                        path.append(f"[{i}]")
                        self.value(fs.items, element, path)
                        path.pop()
        elif kind == "map":
            if not isinstance(item, dict):
                self.type_error("map", item, path)
            elif fs.items is not None and fs.items.type != "any":
                for key, element in item.items():
                    if element is not None:
                        path.append(f"[{key}]")
                        self.value(fs.items, element, path)
                        path.pop()
        elif kind != "any":
            self.scalar(kind, item, path)

    def scalar(self, kind: str, item: Any, path: list[str]) -> None:
        test = _SCALAR_TESTS.get(kind)
        if test is None or not test(item):
            self.type_error(kind, item, path)
        elif kind == "quantity" and isinstance(item, str) and not _QUANTITY.match(item):
            self.invalid(item, QUANTITY_MESSAGE, path)
        elif kind == "time" and not _TIME.match(item):
            self.invalid(item, "must be an RFC 3339 date-time (e.g. 2006-01-02T15:04:05Z)", path)
        elif kind == "bytes" and not _is_base64(item):
            # The value is not quoted back: it is most likely secret data.
            self.result.causes.append(Cause(
                "FieldValueInvalid", "Invalid value: illegal base64 data", _field(path)
            ))

    def type_error(self, kind: str, item: Any, path: list[str]) -> None:
        name = _field(path)
        wanted = _TYPE_WORDING.get(kind, kind)
        self.result.causes.append(Cause(
            "FieldValueTypeInvalid",
            f'Invalid value: {_show(item)}: {name or "body"} in body must be of type '
            f'{wanted}: "{_json_type(item)}"',
            name,
        ))

    def invalid(self, item: Any, detail: str, path: list[str]) -> None:
        self.result.causes.append(
            Cause("FieldValueInvalid", f"Invalid value: {_show(item)}: {detail}", _field(path))
        )


def _field(path: list[str]) -> str:
    """`spec.containers[0].image`: Kubernetes' field path, without the leading dot."""
    return "".join(path).removeprefix(".")
