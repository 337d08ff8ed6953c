"""Backoff for deleting failed daemon pods, per DaemonSet and node.

A node whose agent keeps failing the pod (a taken host port, a missing device) would
otherwise see create, fail, delete, create... as fast as the agent can fail. Kubernetes
waits 1 s after the first delete on a node, then 2, 4... up to 15 minutes, and starts
over once a node has been quiet for twice the maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

INITIAL_SECONDS = 1.0
MAX_SECONDS = 900.0


@dataclass
class _Entry:
    delay: float
    last: datetime


class FailedPodBackoff:
    def __init__(self, *, initial: float = INITIAL_SECONDS, maximum: float = MAX_SECONDS) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def wait(self, key: str, now: datetime) -> float:
        """Seconds before the next delete on this key may happen (0: now)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.delay - (now - entry.last).total_seconds())

    def step(self, key: str, now: datetime) -> None:
        """A delete happens now: the next one waits longer."""
        entry = self._entries.get(key)
        if entry is None or (now - entry.last).total_seconds() > 2 * self.maximum:
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.delay = min(entry.delay * 2, self.maximum)
            entry.last = now

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
