"""Checks on the replica counters controllers write into workload status.

Every counter is a non-negative integer, and some are subsets of others (a ready pod
is one of the pods; an available pod is a ready one), so a status that breaks the
order is a controller bug worth refusing, as Kubernetes does.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import as_int, check_ints
from edgekube.resources.validation import invalid_value

# (smaller, larger): status.<smaller> may not exceed status.<larger>.
Ordering = tuple[tuple[str, str], ...]


def validate_counters(status: Any, counters: tuple[str, ...], ordering: Ordering) -> list[Cause]:
    """Problems with the counters of a workload's `status`."""
    if not isinstance(status, dict):
        return []
    causes = check_ints(status, counters, "status")
    for smaller, larger in ordering:
        low, high = as_int(status.get(smaller)), as_int(status.get(larger)) or 0
        if low is not None and low > high:
            # Kubernetes names the total by its full path and the other counters bare.
            bound = "status.replicas" if larger == "replicas" else larger
            detail = f"cannot be greater than {bound}"
            causes.append(invalid_value(f"status.{smaller}", low, detail))
    return causes
