"""Safe reads of JSON fields, and comparisons that treat absent and empty alike.

Objects reach the kind rules before (or without) a structural type check, so any field
may hold the wrong JSON type. These readers hand back a usable empty value instead, so
rules never crash; the schema check reports the type error itself. Comparisons follow
Go's view of a decoded object, where a missing field, null, "" and {} are one zero value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.objects import get_path
from edgekube.resources.validation import immutable


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """`value` when it is a string, else the empty string."""
    return value if isinstance(value, str) else ""


def integer(value: Any) -> int | None:
    """`value` when it is a JSON integer (a bool is not), else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) for the object items of a JSON list; other items are skipped."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def strings(value: Any) -> list[str]:
    """The string items of a JSON list, in order."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def pruned(value: Any) -> Any:
    """`value` without the null and empty members a Go client would not send back.

    `{"data": {}}` and `{}` are the same object to the Kubernetes API (omitempty), so
    immutability checks compare pruned values: a client that drops an empty map has
    not changed anything.
    """
    if isinstance(value, dict):
        out = {k: pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _is_zero(v)}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def _is_zero(value: Any) -> bool:
    return value is None or (isinstance(value, str | dict | list) and not value)


def same(a: Any, b: Any) -> bool:
    """Whether `a` and `b` are one value once nulls and empties are pruned."""
    return bool(pruned(a) == pruned(b))


def immutable_causes(new: Any, old: Any, paths: Iterable[tuple[str, ...]]) -> list[Cause]:
    """`field is immutable` for each path whose value differs between `old` and `new`."""
    return [
        immutable(".".join(path))
        for path in paths
        if not same(get_path(new, *path), get_path(old, *path))
    ]


def writable(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    """`obj[key]` for defaulting in place: created when absent or null, None when not an object.

    A field of the wrong type is left alone so the schema check can report it as sent.
    """
    value = obj.get(key)
    if value is None:
        value = obj[key] = {}
    return value if isinstance(value, dict) else None
