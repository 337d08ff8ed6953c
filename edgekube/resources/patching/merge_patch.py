"""JSON merge patch (RFC 7386): a patch object in, the merged object out.

Null deletes a key, objects merge key by key, and any other value (lists included)
replaces what was there. The result shares no containers with the original.
"""

from __future__ import annotations

import copy
from typing import Any

from edgekube.errors import BadRequest
from edgekube.resources.objects import Obj


def apply_merge_patch(original: Obj, patch: Any) -> Obj:
    """A new object: `original` with the merge patch `patch` applied."""
    if not isinstance(patch, dict):
        raise BadRequest(
            f"a merge patch must be a JSON object, not {type_name(patch)}"
        )
    merged: Obj = merge(copy.deepcopy(original), patch)
    return merged


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 MergePatch(target, patch); reuses `target`'s containers, so pass a copy."""
    if not isinstance(patch, dict):
        return patch
    result = target if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge(result.get(name), value)
    return result


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
