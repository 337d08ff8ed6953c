"""Cause builders for the shapes `edgekube.resources.validation` leaves out.

Kubernetes attaches a detail to some required and duplicate errors ("Required value:
must specify a volume type"); these builders keep that wording.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.validation import duplicate, invalid_value


def required_because(field: str, detail: str) -> Cause:
    """`Required value: <detail>`."""
    return Cause("FieldValueRequired", f"Required value: {detail}", field)


def duplicate_because(field: str, value: Any, detail: str) -> Cause:
    """`Duplicate value: <value>: <detail>`."""
    plain = duplicate(field, value)
    return Cause(plain.reason, f"{plain.message}: {detail}", field)


def invalid_each(field: str, value: Any, problems: list[str]) -> list[Cause]:
    """One `Invalid value` cause per problem a check (`is_dns1123_label` ...) found."""
    return [invalid_value(field, value, p) for p in problems]
