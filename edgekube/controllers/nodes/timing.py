"""Wall-clock time for controllers that compare it with timestamps stored in objects.

Taints carry `timeAdded`, pods `deletionTimestamp`, conditions `lastTransitionTime`: all
RFC 3339 in UTC. Controllers take a `clock` so tests can set the time instead of sleeping;
the default is the system clock. Stored times are written at second precision, as
Kubernetes writes `metav1.Time`, so a deadline counted from one may fall up to a second
early; that is the precision Kubernetes offers too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (`2024-05-01T12:00:00Z`, with or without fractions); None if unreadable."""
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


def seconds_until(deadline: datetime, now: datetime) -> float:
    """How long from `now` until `deadline` (0 when it has passed)."""
    return max(0.0, (deadline - now).total_seconds())


def after(when: datetime, seconds: float) -> datetime:
    return when + timedelta(seconds=seconds)
