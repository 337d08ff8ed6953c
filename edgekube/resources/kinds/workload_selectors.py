"""A workload's own label selector: its checks, and how kubectl columns show selectors.

A workload finds its pods through `spec.selector`, so the selector must be present,
valid and not empty (an empty one would adopt every pod in the namespace). Parsing and
matching are `edgekube.resources.selectors`' job; this module adds the workload rules
and kubectl's display (`app=web,tier in (a,b)`; `<none>` when there is nothing to show).
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.selectors import (
    InvalidSelector,
    LabelSelector,
    label_selector_from_object,
    validate_label_selector_object,
)
from edgekube.resources.validation import invalid_value, required

NONE = "<none>"
ERROR = "<error>"


def validate_workload_selector(selector: Any, path: str, owner: str) -> list[Cause]:
    """A workload's own selector: present, valid and not empty. `owner`: "deployment"..."""
    if selector is None:
        return [required(path)]
    causes = validate_label_selector_object(selector, path)
    if isinstance(selector, dict) and is_empty(selector):
        causes.append(invalid_value(path, selector, f"empty selector is invalid for {owner}"))
    return causes


def is_empty(selector: dict[str, Any]) -> bool:
    """Whether a selector has neither labels nor expressions (it would select everything)."""
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def usable_selector(selector: Any) -> LabelSelector | None:
    """The parsed selector when it is valid and not empty; None otherwise."""
    if not isinstance(selector, dict) or is_empty(selector):
        return None
    try:
        return label_selector_from_object(selector)
    except InvalidSelector:
        return None


def selector_matches(selector: Any, labels: Any) -> bool:
    """Whether `labels` satisfy a valid, non-empty `selector` (anything else matches nothing)."""
    parsed = usable_selector(selector)
    if parsed is None:
        return False
    found = labels if isinstance(labels, dict) else {}
    return parsed.matches({k: v for k, v in found.items() if isinstance(v, str)})


def format_label_selector(selector: Any) -> str:
    """kubectl's rendering of a `spec.selector`: `app=web,tier in (a,b)`; `<none>` if empty."""
    if not isinstance(selector, dict):
        return NONE
    try:
        shown = str(label_selector_from_object(selector))
    except InvalidSelector:
        return ERROR
    return shown or NONE


def format_labels(labels: Any) -> str:
    """A label map as kubectl shows it: `a=1,b=2` sorted by key; `<none>` when empty."""
    if not isinstance(labels, dict) or not labels:
        return NONE
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels, key=str))
