"""Timestamps in the two wire formats: `Time` (RFC 3339, seconds) and `MicroTime` (microseconds)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(at: datetime) -> str:
    """`2025-01-02T03:04:05Z`, as `metav1.Time` is written."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(at: datetime) -> str:
    """`2025-01-02T03:04:05.123456Z`, as `metav1.MicroTime` (a Lease's renewTime) is written."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime | None:
    """A `Time` or `MicroTime` back to a datetime; None when it does not parse."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
