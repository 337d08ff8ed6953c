"""JSON patch (RFC 6902): a list of operations in, the patched object out.

The operations run one at a time on a private copy so that an error can name the
operation that failed (its index, op and path); any failure aborts the whole patch.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from edgekube.errors import BadRequest
from edgekube.resources.objects import Obj
from edgekube.resources.patching.merge_patch import type_name

# Library messages can quote the whole document (a failed `test` does); keep errors short.
_MAX_DETAIL = 200


def apply_json_patch(original: Obj, operations: Any) -> Obj:
    """A new object: `original` with the JSON patch `operations` applied in order."""
    if not isinstance(operations, list):
        raise BadRequest(
            f"a JSON patch must be an array of operations, not {type_name(operations)}"
        )
    document: Any = copy.deepcopy(original)
    for index, operation in enumerate(operations):
        document = _apply_one(document, index, operation)
    if not isinstance(document, dict):
        raise BadRequest(
            f"the JSON patch turned the object into {type_name(document)}; it must stay an object"
        )
    return document


def _apply_one(document: Any, index: int, operation: Any) -> Any:
    """`document` after one operation, changed in place where the library can."""
    try:
        return jsonpatch.JsonPatch([operation]).apply(document, in_place=True)
    except jsonpatch.JsonPatchTestFailed as err:
        raise BadRequest(f"{_describe(index, operation)}: test failed: {_short(err)}") from err
    except jsonpatch.JsonPatchConflict as err:
        raise BadRequest(
            f"{_describe(index, operation)}: path not found or not applicable: {_short(err)}"
        ) from err
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as err:
        raise BadRequest(f"{_describe(index, operation)}: {_short(err)}") from err


def _describe(index: int, operation: Any) -> str:
    """`JSON patch operation 2 (remove /spec/x)`, as far as the operation can be read."""
    where = f"JSON patch operation {index}"
    if isinstance(operation, dict):
        op, path = operation.get("op"), operation.get("path")
        if isinstance(op, str) and isinstance(path, str):
            return f"{where} ({op} {path!r})"
    return where


def _short(err: Exception) -> str:
    text = str(err)
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
