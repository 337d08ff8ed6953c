"""Strategic merge patch: a patch object and the object's schema in, the merged object out.

This walks the patch and the original together, one object level at a time, asking the
`Shape` for each field's schema: lists whose patch strategy is "merge" merge element-wise
(see `strategic_lists`), other lists are replaced whole, objects and maps merge key by
key, and null deletes a key. Where the schema says nothing the rules are JSON merge
patch's. The `$` directives kubectl sends are honoured at every object level, known
schema or not, and never end up in the result.

The merge works in place on a deep copy of the original, so the caller's object is
untouched and the result shares nothing with it.
"""

from __future__ import annotations

import copy
from typing import Any

from edgekube.errors import BadRequest
from edgekube.resources.objects import Obj
from edgekube.resources.patching.directives import PatchKind, check_retained, split_directives
from edgekube.resources.patching.merge_patch import type_name
from edgekube.resources.patching.shapes import Shape, holds_objects, is_merge_list, strategies
from edgekube.resources.patching.strategic_lists import (
    merge_keyed,
    merge_primitives,
    remove_values,
    reorder,
)
from edgekube.resources.schema import FieldSchema


def apply_strategic_merge_patch(original: Obj, patch: Any, shape: Shape) -> Obj:
    """A new object: `original` with the strategic merge patch `patch` applied."""
    if not isinstance(patch, dict):
        raise BadRequest(
            f"a strategic merge patch must be a JSON object, not {type_name(patch)}"
        )
    merged = merge_object(copy.deepcopy(original), patch, shape, "")
    # `$patch: delete` at the top cannot delete the object itself; it empties it.
    return merged if merged is not None else {}


def merge_object(current: Obj, patch: Obj, shape: Shape, where: str) -> Obj | None:
    """`current` (owned, changed in place) with `patch` merged in; None deletes it."""
    directives, fields = split_directives(patch, where)
    if directives.kind is PatchKind.DELETE:
        return None
    if directives.kind is PatchKind.REPLACE:
        current = {}
    if directives.retain_keys is not None:
        check_retained(fields, directives.retain_keys, where)
        current = {k: v for k, v in current.items() if k in directives.retain_keys}
    for name, values in directives.delete_from.items():
        if isinstance(current.get(name), list):
            current[name] = remove_values(current[name], values)
    # Reordering places untouched elements relative to where they were before the merge.
    before = {name: copy.copy(current.get(name)) for name in directives.element_order}
    for name, value in fields.items():
        merged = None
        if value is not None:
            at = _join(where, name)
            merged = merge_value(current.get(name), value, shape.field(name), shape, at)
        if merged is None:
            current.pop(name, None)
        else:
            current[name] = merged
    for name, order in directives.element_order.items():
        _reorder_field(current, name, order, before[name], shape.field(name), _join(where, name))
    return current


def merge_value(
    current: Any, patch: Any, fs: FieldSchema | None, shape: Shape, where: str
) -> Any:
    """The merged value of one field (`patch` is not null); None means drop the field."""
    if isinstance(patch, dict):
        # A "replace" strategy on an object or map means the patch value is the whole value.
        keep = isinstance(current, dict) and "replace" not in strategies(fs)
        return merge_object(current if keep else {}, patch, shape.enter(fs), where)
    if isinstance(patch, list) and fs is not None and is_merge_list(fs):
        return _merge_list(current if isinstance(current, list) else [], patch, fs, shape, where)
    return patch


def _merge_list(
    current: list[Any], patch: list[Any], fs: FieldSchema, shape: Shape, where: str
) -> list[Any]:
    if not holds_objects(fs):
        return merge_primitives(current, patch, where)
    elements = shape.enter(fs.items)

    def merge_element(old: Obj, new: Obj, at: str) -> Obj | None:
        return merge_object(old, new, elements, at)

    return merge_keyed(current, patch, fs.patch_merge_key, merge_element, where)


def _reorder_field(
    current: Obj, name: str, order: list[Any], before: Any, fs: FieldSchema | None, where: str
) -> None:
    """Apply `$setElementOrder/<name>` to the merged list, if the field is a merge list."""
    merged = current.get(name)
    # Lists that are replaced whole already have the order the patch gave them.
    if fs is None or not is_merge_list(fs) or not isinstance(merged, list):
        return
    key = fs.patch_merge_key if holds_objects(fs) else ""
    previous = before if isinstance(before, list) else []
    current[name] = reorder(merged, order, previous, key, where)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
