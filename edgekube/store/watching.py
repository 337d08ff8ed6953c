"""The watch hub: fans every committed event out to the watchers of its resource.

The writer publishes each event once, in revision order; the hub appends it to a short
in-memory history (so most watches resume without touching the database) and hands it
to each interested watcher's bounded buffer. A watcher that falls too far behind is
closed rather than allowed to stall the others or grow without bound; its client
re-watches from the last revision it saw, as Kubernetes clients do.
"""

from __future__ import annotations

import asyncio
from collections import deque

from edgekube.store.types import Event


class WatcherOverflow(Exception):
    """The watcher fell behind by more than its buffer holds and was closed."""


class Watcher:
    """One subscription: events of one resource (optionally one namespace), in order."""

    def __init__(self, hub: WatchHub, resource: str | None, namespace: str | None, limit: int) -> None:
        self._hub = hub
        self.resource = resource
        self.namespace = namespace
        self._limit = limit
        self._buffer: deque[Event] = deque()
        self._wakeup = asyncio.Event()
        self.overflowed = False
        self.closed = False

    def offer(self, event: Event) -> None:
        if self.closed:
            return
        if self.namespace is not None and event.key.namespace != self.namespace:
            return
        if len(self._buffer) >= self._limit:
            self.overflowed = True
            self.close()
            return
        self._buffer.append(event)
        self._wakeup.set()

    def pending(self) -> int:
        return len(self._buffer)

    async def next(self, wait_seconds: float | None = None) -> Event | None:
        """The next event; None on timeout. Raises WatcherOverflow once closed for lag."""
        while not self._buffer:
            if self.overflowed:
                raise WatcherOverflow()
            if self.closed:
                return None
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), wait_seconds)
            except TimeoutError:
                return None
        return self._buffer.popleft()

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()
        self._hub.remove(self)


class WatchHub:
    """Routes published events to watchers and keeps the most recent ones for replay."""

    def __init__(self, history: int = 1000, watcher_buffer: int = 10000) -> None:
        self._history: deque[Event] = deque(maxlen=history)
        self._by_resource: dict[str | None, set[Watcher]] = {}
        self._watcher_buffer = watcher_buffer
        # The newest revision published; every event at or below it has been offered.
        self.published_revision = 0

    def publish(self, event: Event) -> None:
        self._history.append(event)
        self.published_revision = event.revision
        for watcher in list(self._by_resource.get(event.key.resource, ())):
            watcher.offer(event)
        for watcher in list(self._by_resource.get(None, ())):
            watcher.offer(event)

    def subscribe(self, resource: str | None, namespace: str | None) -> Watcher:
        watcher = Watcher(self, resource, namespace, self._watcher_buffer)
        self._by_resource.setdefault(resource, set()).add(watcher)
        return watcher

    def remove(self, watcher: Watcher) -> None:
        group = self._by_resource.get(watcher.resource)
        if group is not None:
            group.discard(watcher)
            if not group:
                del self._by_resource[watcher.resource]

    def replay_from_memory(self, after: int) -> list[Event] | None:
        """Events after revision `after`, or None when memory no longer holds them all.

        Every revision is exactly one event, so the history covers `after` when its
        oldest event is at most `after + 1`.
        """
        if after >= self.published_revision:
            return []
        if not self._history or self._history[0].revision > after + 1:
            return None
        return [e for e in self._history if e.revision > after]

    def watcher_count(self) -> int:
        return sum(len(s) for s in self._by_resource.values())
