"""A work queue of keys: deduplicated, never one key in two workers, retried with backoff.

Semantics follow the Kubernetes work queue: a key added while queued is queued once; a
key added while a worker holds it is queued again when the worker calls `done`; failed keys
come back after an exponentially growing delay until `forget` resets it.
"""

from __future__ import annotations

import asyncio
from collections import deque

BASE_DELAY = 0.05  # seconds before the first retry of a failed key
MAX_DELAY = 60.0  # the longest a failing key waits


class ShutDown(Exception):
    """The queue was shut down; workers should return."""


class WorkQueue:
    def __init__(self, name: str, *, base_delay: float = BASE_DELAY, max_delay: float = MAX_DELAY) -> None:
        self.name = name
        self._base = base_delay
        self._max = max_delay
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._processing: set[str] = set()
        self._dirty: set[str] = set()  # added while processing
        self._failures: dict[str, int] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._ready = asyncio.Condition()
        self._shut = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: str) -> None:
        if self._shut:
            return
        if key in self._processing:
            self._dirty.add(key)
            return
        if key in self._queued:
            return
        self._queued.add(key)
        self._queue.append(key)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._ready:
            self._ready.notify()

    def add_after(self, key: str, delay: float) -> None:
        """Add `key` after `delay` seconds (an earlier pending add_after wins)."""
        if self._shut:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        existing = self._timers.get(key)
        due = loop.time() + delay
        if existing is not None and existing.when() <= due:
            return
        if existing is not None:
            existing.cancel()
        self._timers[key] = loop.call_at(due, self._fire, key)

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: str) -> float:
        """Retry `key` later; each consecutive failure doubles the delay. Returns the delay."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay: float = min(self._base * 2.0**failures, self._max)
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> str:
        async with self._ready:
            while not self._queue:
                if self._shut:
                    raise ShutDown()
                await self._ready.wait()
            key = self._queue.popleft()
            self._queued.discard(key)
            self._processing.add(key)
            return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    async def shut_down(self) -> None:
        self._shut = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        async with self._ready:
            self._ready.notify_all()
