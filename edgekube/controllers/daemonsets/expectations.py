"""Expectations: what a sync has just written and the pod cache has not shown yet.

The pod cache lags the store by a watch event. A sync that created a pod for node A and
runs again before the pod's ADDED event arrives would see no pod on A and create a second.
So every sync that writes records how many creates and deletes it made, the pod informer's
handlers count them off as they arrive, and until they have all arrived (or `ttl` seconds
passed: an event lost for good must not stop the DaemonSet for ever) the controller only
reports status. Kubernetes' `ControllerExpectations`, keyed by DaemonSet.

A delete counts as seen when the pod gets its `deletionTimestamp` or disappears, whichever
comes first; a new `expect` replaces the record, so counts gone below zero do not linger.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

TTL_SECONDS = 300.0  # as in Kubernetes


@dataclass
class _Pending:
    adds: int
    deletes: int
    since: float


class Expectations:
    def __init__(self, *, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._pending: dict[str, _Pending] = {}

    def expect(self, key: str, *, adds: int, deletes: int) -> None:
        self._pending[key] = _Pending(adds, deletes, self.clock())

    def created(self, key: str) -> None:
        found = self._pending.get(key)
        if found is not None:
            found.adds -= 1

    def deleted(self, key: str) -> None:
        found = self._pending.get(key)
        if found is not None:
            found.deletes -= 1

    def satisfied(self, key: str) -> bool:
        found = self._pending.get(key)
        if found is None:
            return True
        if (found.adds <= 0 and found.deletes <= 0) or self.clock() - found.since > self.ttl:
            del self._pending[key]
            return True
        return False

    def forget(self, key: str) -> None:
        self._pending.pop(key, None)
