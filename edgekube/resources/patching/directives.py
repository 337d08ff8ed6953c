"""The `$` directives of strategic merge patch, read out of one patch object.

kubectl writes these next to ordinary fields; `split_directives` separates them so the
merge code sees plain fields plus one `MapDirectives`. Only the names below are
directives: other keys that start with `$` (a CRD schema's `$ref`) are ordinary fields.
Malformed directives are the client's error and raise `BadRequest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from edgekube.errors import BadRequest
from edgekube.resources.objects import Obj

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"


class PatchKind(StrEnum):
    """The values of `$patch`: how one object (or list) combines with the original."""

    MERGE = "merge"  # the default, spelled out
    REPLACE = "replace"
    DELETE = "delete"


@dataclass
class MapDirectives:
    """The directives found in one patch object."""

    kind: PatchKind = PatchKind.MERGE
    retain_keys: frozenset[str] | None = None
    element_order: dict[str, list[Any]] = field(default_factory=dict)  # by field name
    delete_from: dict[str, list[Any]] = field(default_factory=dict)  # by field name


def patch_kind(value: Any, where: str) -> PatchKind:
    """The `$patch` value as a `PatchKind`; anything else is a bad request."""
    try:
        return PatchKind(value)
    except ValueError:
        raise BadRequest(
            f"{describe(where)}: unknown {PATCH} value {value!r}; "
            f"expected one of {', '.join(k.value for k in PatchKind)}"
        ) from None


def split_directives(patch: Obj, where: str) -> tuple[MapDirectives, Obj]:
    """The directives of one patch object, and its remaining ordinary fields."""
    directives = MapDirectives()
    fields: Obj = {}
    for name, value in patch.items():
        if name == PATCH:
            directives.kind = patch_kind(value, where)
        elif name == RETAIN_KEYS:
            directives.retain_keys = frozenset(_strings(value, name, where))
        elif name.startswith(SET_ELEMENT_ORDER):
            target = name.removeprefix(SET_ELEMENT_ORDER)
            directives.element_order[target] = _list(value, name, where)
        elif name.startswith(DELETE_FROM_PRIMITIVE_LIST):
            target = name.removeprefix(DELETE_FROM_PRIMITIVE_LIST)
            directives.delete_from[target] = _list(value, name, where)
        else:
            fields[name] = value
    return directives, fields


def check_retained(fields: Obj, retain: frozenset[str], where: str) -> None:
    """Every field the patch sets must be one that `$retainKeys` keeps."""
    # A null only deletes, so it cannot conflict with the keys being kept.
    stray = sorted(
        name for name, value in fields.items() if value is not None and name not in retain
    )
    if stray:
        raise BadRequest(
            f"{describe(where)}: fields {', '.join(stray)} are set by the patch "
            f"but missing from its {RETAIN_KEYS} list"
        )


def describe(where: str) -> str:
    """A patch location for error messages; the root has no path."""
    return f"strategic merge patch at {where!r}" if where else "strategic merge patch"


def _list(value: Any, name: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequest(f"{describe(where)}: {name} must be a list")
    return value


def _strings(value: Any, name: str, where: str) -> list[str]:
    items = _list(value, name, where)
    if not all(isinstance(item, str) for item in items):
        raise BadRequest(f"{describe(where)}: {name} must be a list of field names")
    return items
