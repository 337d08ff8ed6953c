"""The one entry point: a content type, an object and a body in, the patched object out.

Each supported content type maps to one algorithm module; the body is parsed here once so
every algorithm reports JSON syntax errors the same way. The caller's object is never
changed: each algorithm works on its own copy.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import UnsupportedMediaType
from edgekube.resources.objects import Obj
from edgekube.resources.patching.bodies import parse_json
from edgekube.resources.patching.content_types import (
    APPLY_PATCH_YAML,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    SUPPORTED,
    media_type,
)
from edgekube.resources.patching.json_patch import apply_json_patch
from edgekube.resources.patching.merge_patch import apply_merge_patch
from edgekube.resources.patching.shapes import Shape
from edgekube.resources.patching.strategic import apply_strategic_merge_patch
from edgekube.resources.schema import Definition, SchemaSet


def apply_patch(
    content_type: str,
    original: Obj,
    patch: bytes,
    *,
    schema: SchemaSet | None,
    definition: Definition | None,
) -> Obj:
    """A new object: `original` with the `patch` body of type `content_type` applied."""
    kind = media_type(content_type)
    if kind == APPLY_PATCH_YAML:
        raise UnsupportedMediaType(
            f"server-side apply ({APPLY_PATCH_YAML}) is not supported yet; "
            "use client-side apply instead: `kubectl apply --server-side=false`"
        )
    if kind not in SUPPORTED:
        raise UnsupportedMediaType(
            f"unsupported patch content type {content_type!r}; "
            f"supported types are: {', '.join(SUPPORTED)}"
        )
    body: Any = parse_json(patch, kind)
    if kind == JSON_PATCH:
        return apply_json_patch(original, body)
    if kind == MERGE_PATCH:
        return apply_merge_patch(original, body)
    assert kind == STRATEGIC_MERGE_PATCH
    return apply_strategic_merge_patch(original, body, Shape(schema, definition))
