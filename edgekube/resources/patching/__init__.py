"""PATCH bodies in, patched objects out: the three patch content types of the Kubernetes API.

`apply_patch(content_type, original, body, schema=..., definition=...)` picks the
algorithm by content type and returns a new object; `original` is never changed. Bad
bodies raise `BadRequest`, unknown content types `UnsupportedMediaType`.
"""

from edgekube.resources.patching.applying import apply_patch
from edgekube.resources.patching.content_types import (
    APPLY_PATCH_YAML,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    SUPPORTED,
)

__all__ = [
    "APPLY_PATCH_YAML",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "SUPPORTED",
    "apply_patch",
]
