"""Cell formatting that several kinds' `kubectl get` rows share, in kubectl's words.

Rows are built on the server (the `Table` response), so these produce exactly the text
kubectl prints: "<none>" for an empty set, "<unknown>" for a missing time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgekube.resources.kinds.common_fields import mapping
from edgekube.resources.strategy import human_duration
from edgekube.resources.times import parse_time


def since(value: Any, now: datetime) -> str:
    """kubectl's short duration from the timestamp `value` to `now`; "<unknown>" if unset."""
    then = parse_time(value)
    if then is None:
        return "<unknown>"
    return human_duration(int((now - then).total_seconds()))


def format_labels(labels: Any) -> str:
    """`a=b,c=d` with keys sorted, or "<none>" for an empty map (selectors, labels)."""
    pairs = sorted(mapping(labels).items())
    if not pairs:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in pairs)
