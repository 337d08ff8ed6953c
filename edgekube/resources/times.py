"""Kubernetes timestamps and the clock controllers read: one home for both.

`metav1.Time` is RFC 3339 in UTC at second precision (`2024-05-01T12:00:00Z`); readers also
accept fractions and offsets. Code that decides by time takes a `Clock` so tests can fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (naive ones read as UTC); None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_time(when: datetime) -> str:
    """Second precision with a `Z`, as the API server writes `metav1.Time`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
