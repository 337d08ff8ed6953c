"""Int-or-percent values (`maxSurge: 25%`, `maxUnavailable: 1`): checks and resolution.

Rolling updates size their steps this way: an absolute pod count, or a percentage of
the desired replicas. The checks keep Kubernetes' wording; `scaled_value` is what a
controller uses to turn a percentage into a count.
"""

from __future__ import annotations

import re
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import NONNEGATIVE, as_int
from edgekube.resources.validation import invalid_value

PERCENT_ERROR = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)
_PERCENT = re.compile(r"^[0-9]+%$")


def validate_int_or_percent(value: Any, field: str) -> list[Cause]:
    """Problems with a non-negative integer or a percent string like "25%"."""
    if value is None:
        return []
    if isinstance(value, str):
        return [] if _PERCENT.match(value) else [invalid_value(field, value, PERCENT_ERROR)]
    number = as_int(value)
    if number is None:
        return [invalid_value(field, value, "must be an integer or a percentage")]
    return [] if number >= 0 else [invalid_value(field, number, NONNEGATIVE)]


def not_over_100_percent(value: Any, field: str) -> list[Cause]:
    """A percentage may not exceed 100% (absolute counts have no such cap)."""
    if isinstance(value, str) and _PERCENT.match(value) and int(value[:-1]) > 100:
        return [invalid_value(field, value, "must not be greater than 100%")]
    return []


def raw_value(value: Any) -> int:
    """The number in `value` ignoring its unit: 25 for "25%" and for 25; 0 when unreadable."""
    if isinstance(value, str):
        digits = value[:-1] if value.endswith("%") else value
        return int(digits) if digits.isascii() and digits.isdigit() else 0
    return as_int(value) or 0


def scaled_value(value: Any, total: int, *, round_up: bool) -> int:
    """`value` as a count out of `total`: a percentage is scaled, rounded up or down.

    Worked example: 10 replicas, maxSurge "25%" rounds up to 3 extra pods, and
    maxUnavailable "25%" rounds down to 2 pods that may be down at once.
    """
    if isinstance(value, str) and value.endswith("%"):
        share = raw_value(value) * total
        return -(-share // 100) if round_up else share // 100
    return raw_value(value)
