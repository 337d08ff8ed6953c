"""Expectations: what a controller is still waiting to see of its own writes.

A ReplicaSet's sync acts on the informer's copy of its pods, which lags behind the
controller's own creates and deletes. Before acting, the controller records how many
creates and which deletes it is about to make; the pod handlers tick them off as the
informer delivers them, and `sync` only creates or deletes again once nothing is
outstanding. Without this, a sync that runs before its pods arrive would create them a
second time. Expectations older than `ttl` are ignored, so a lost event (or a create
that failed without telling us) delays the controller by at most that long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EXPECTATIONS_TTL = 300.0  # seconds; Kubernetes waits this long for a missing event too


@dataclass
class _Pending:
    adds: int
    deletes: set[str] = field(default_factory=set)
    since: float = 0.0


class Expectations:
    """Outstanding creates (a count) and deletes (pod keys) per controller key."""

    def __init__(self, ttl: float = EXPECTATIONS_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._pending: dict[str, _Pending] = {}

    def satisfied(self, key: str) -> bool:
        """Whether `key` may act: nothing outstanding, nothing recorded, or recorded too long ago."""
        pending = self._pending.get(key)
        if pending is None:
            return True
        if pending.adds <= 0 and not pending.deletes:
            return True
        return self._clock() - pending.since > self._ttl

    def expect(self, key: str, *, adds: int = 0, deletes: Iterable[str] = ()) -> None:
        """Replace what `key` waits for (called only when it was satisfied)."""
        self._pending[key] = _Pending(adds, set(deletes), self._clock())

    def creation_observed(self, key: str) -> None:
        pending = self._pending.get(key)
        if pending is not None:
            pending.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        pending = self._pending.get(key)
        if pending is not None:
            pending.deletes.discard(pod_key)

    def forget(self, key: str) -> None:
        self._pending.pop(key, None)

    def outstanding(self, key: str) -> tuple[int, int]:
        """(creates, deletes) still expected, for logs and tests."""
        pending = self._pending.get(key)
        return (0, 0) if pending is None else (max(pending.adds, 0), len(pending.deletes))
