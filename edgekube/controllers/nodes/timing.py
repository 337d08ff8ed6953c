"""Wall-clock time for controllers that compare it with timestamps stored in objects.

Taints carry `timeAdded`, pods `deletionTimestamp`, conditions `lastTransitionTime`: all
RFC 3339 in UTC. Controllers take a `clock` so tests can set the time instead of sleeping;
the default is the system clock. Stored times are written at second precision, as
Kubernetes writes `metav1.Time`, so a deadline counted from one may fall up to a second
early; that is the precision Kubernetes offers too.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def seconds_until(deadline: datetime, now: datetime) -> float:
    """How long from `now` until `deadline` (0 when it has passed)."""
    return max(0.0, (deadline - now).total_seconds())


def after(when: datetime, seconds: float) -> datetime:
    return when + timedelta(seconds=seconds)
