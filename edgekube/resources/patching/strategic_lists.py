"""Lists under strategic merge patch: keyed merges, unions of primitives and reordering.

Only lists whose schema says "merge" come here; others are replaced whole by the caller.
Lists of objects match elements by the merge key (containers by `name`): a patch element
updates its match in place or is appended, `$patch: delete` drops the match and an
element `{"$patch": "replace"}` makes the rest of the patch list replace the original.
Lists of primitives (finalizers) take the union. The recursion into elements is the
caller's `MergeElement`, so this module knows nothing about objects' fields.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from edgekube.errors import BadRequest
from edgekube.resources.objects import Obj
from edgekube.resources.patching.directives import PATCH, PatchKind, describe, patch_kind

# (original element or {} when new, patch element, location) -> merged element, or None
# when the patch element deletes it.
MergeElement = Callable[[Obj, Obj, str], Obj | None]


def merge_keyed(
    current: list[Any], patch: list[Any], key: str, merge: MergeElement, where: str
) -> list[Any]:
    """`current` (owned, reused) with the patch elements merged in by `key`."""
    replace = False
    elements: list[tuple[Obj, str]] = []
    for position, element in enumerate(patch):
        at = f"{where}[{position}]"
        if not isinstance(element, dict):
            raise BadRequest(f"{describe(at)}: expected an object with merge key {key!r}")
        if PATCH in element and patch_kind(element[PATCH], at) is PatchKind.REPLACE:
            replace = True  # a marker, not an element: the other elements are the list
            continue
        if key not in element:
            raise BadRequest(f"{describe(at)}: element has no merge key {key!r}")
        elements.append((element, f"{where}[{key}={element[key]}]"))
    result = [] if replace else current
    for element, at in elements:
        index = find(result, element[key], key)
        old: Obj = result[index] if index is not None else {}
        merged = merge(old, element, at)
        if index is None:
            if merged is not None:
                result.append(merged)
        elif merged is None:
            del result[index]
        else:
            result[index] = merged
    return result


def merge_primitives(current: list[Any], patch: list[Any], where: str) -> list[Any]:
    """The union of `current` and the patch's values, original order first."""
    replace = False
    values: list[Any] = []
    for position, element in enumerate(patch):
        if isinstance(element, dict) and PATCH in element:
            at = f"{where}[{position}]"
            kind = patch_kind(element[PATCH], at)
            if kind is PatchKind.DELETE:
                raise BadRequest(
                    f"{describe(at)}: $patch: delete does not apply to a list of "
                    "primitives; use $deleteFromPrimitiveList"
                )
            replace = replace or kind is PatchKind.REPLACE
            continue
        values.append(element)
    union: list[Any] = []
    for value in ([] if replace else current) + values:
        if not contains(union, value):
            union.append(value)
    return union


def remove_values(current: list[Any], values: list[Any]) -> list[Any]:
    """`current` without any of `values` (`$deleteFromPrimitiveList`)."""
    return [item for item in current if not contains(values, item)]


def reorder(
    merged: list[Any], order: list[Any], before: list[Any], key: str, where: str
) -> list[Any]:
    """`merged` in the order `$setElementOrder` gives, other elements kept in place.

    Elements the order names come in that order. Elements it does not name (added by
    someone else since the client last looked) keep their place relative to the
    original list: each goes before the first named element that followed it there.
    Worked example: original [a, x, b], order [c, b, a] -> [c, x, b, a]: c is new and
    has no original place, x sat before b so it goes just before b.
    """
    wanted = [_order_identity(entry, key, f"{where}[{i}]") for i, entry in enumerate(order)]
    named: list[Any] = []
    rest = list(merged)
    for identity in wanted:
        index = find(rest, identity, key)
        if index is not None:
            named.append(rest.pop(index))
    pending = deque(rest)
    out: list[Any] = []
    for element in named:
        place = find(before, identity_of(element, key), key)
        if place is not None:
            while pending and _precedes(pending[0], place, before, key):
                out.append(pending.popleft())
        out.append(element)
    out.extend(pending)
    return out


def find(items: list[Any], identity: Any, key: str) -> int | None:
    """The index of the first element whose identity (merge key value) is `identity`."""
    for index, item in enumerate(items):
        if key and not isinstance(item, dict):
            continue
        if _same(identity_of(item, key), identity):
            return index
    return None


def identity_of(element: Any, key: str) -> Any:
    """What identifies a list element: its merge key's value, or itself for primitives."""
    return element.get(key) if key and isinstance(element, dict) else element


def contains(items: list[Any], value: Any) -> bool:
    return any(_same(item, value) for item in items)


def _same(a: Any, b: Any) -> bool:
    # JSON true is not 1, though Python says True == 1.
    return type(a) is type(b) and bool(a == b)


def _precedes(element: Any, place: int, before: list[Any], key: str) -> bool:
    """Whether `element` stood before position `place` in the original list."""
    own = find(before, identity_of(element, key), key)
    return own is not None and own < place


def _order_identity(entry: Any, key: str, where: str) -> Any:
    if not key:
        return entry
    if not isinstance(entry, dict) or key not in entry:
        raise BadRequest(f"{describe(where)}: $setElementOrder entries need the merge key {key!r}")
    return entry[key]
