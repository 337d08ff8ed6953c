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


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration (`5s`, `1m30s`, `250ms`, `2h`) or a bare number.

    Raises ValueError for anything else.
    """
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number, i = 0.0, "", 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if not number or unit not in units:
            raise ValueError(f"not a duration: {text!r} (use e.g. 5s, 1m30s, 250ms)")
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number or not text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 5s, 1m30s, 250ms)")
    return total
