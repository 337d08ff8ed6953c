"""Cause builders and number checks that the pod and workload rules share.

`edgekube.resources.validation` has the builders every kind uses; the few here cover
shapes only the pod-spec rules need (a required field with a reason, a reference to a
volume that does not exist, counters that may not be negative). Messages keep the
Kubernetes wording so people can search for them.
"""

from __future__ import annotations

from typing import Any

import orjson

from edgekube.errors import Cause
from edgekube.resources.validation import invalid_value

INT32_MAX = 2**31 - 1
NONNEGATIVE = "must be greater than or equal to 0"


def required_because(field: str, detail: str) -> Cause:
    """`Required value: <detail>`: a missing field whose absence needs explaining."""
    return Cause("FieldValueRequired", f"Required value: {detail}", field)


def not_found(field: str, value: Any) -> Cause:
    """`Not found: "<value>"`: a reference to something the object does not define."""
    shown = orjson.dumps(value).decode() if _jsonable(value) else repr(value)
    return Cause("FieldValueNotFound", f"Not found: {shown}", field)


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def as_int(value: Any) -> int | None:
    """`value` when it is a JSON integer; None for anything else (bool is not an integer)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def check_int(obj: Any, key: str, field: str, *, minimum: int | None = 0, detail: str = NONNEGATIVE) -> list[Cause]:
    """Problems with the optional integer `obj[key]`: not an integer, or below `minimum`."""
    if not isinstance(obj, dict) or obj.get(key) is None:
        return []
    value = obj[key]
    number = as_int(value)
    if number is None:
        return [invalid_value(field, value, "must be an integer")]
    if minimum is not None and number < minimum:
        return [invalid_value(field, number, detail)]
    return []


def check_ints(obj: Any, keys: tuple[str, ...], path: str) -> list[Cause]:
    """`check_int` (non-negative) for each of `keys` under `path`."""
    causes: list[Cause] = []
    for key in keys:
        causes += check_int(obj, key, f"{path}.{key}")
    return causes


def dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The (index, item) pairs of a JSON list whose items are objects; others are skipped.

    Callers get a list they can walk without type checks; wrong types were already
    reported by the schema check, and skipping them here keeps the rules from crashing.
    """
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (for reads that must not crash)."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """`value` when it is a string, else the empty string (for lookups that must not crash)."""
    return value if isinstance(value, str) else ""
