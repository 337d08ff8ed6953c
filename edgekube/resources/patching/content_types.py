"""The media types a PATCH request may carry, and how a Content-Type header maps to one."""

from __future__ import annotations

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
# Server-side apply: recognised so that the refusal can say what to do instead.
APPLY_PATCH_YAML = "application/apply-patch+yaml"

SUPPORTED = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type header: no parameters, lower case."""
    return content_type.split(";", 1)[0].strip().lower()
