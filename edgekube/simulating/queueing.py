"""A queue of keys that become due now or later, each handed to one worker at a time.

The simulator's work is "look at this node or pod again at time T": a Lease renewal ten
seconds from now, a pod start half a second after binding. `add(key, delay)` keeps the
earliest wanted time per key; a key that is already waiting to be taken is not queued
twice; a key added while a worker holds it comes back when that worker calls `done`.
Timers are event-loop timers, so ten thousand pending keys cost a heap entry each.
"""

from __future__ import annotations

import asyncio


class DelayQueue:
    def __init__(self) -> None:
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()  # in _ready, not taken yet
        self._processing: set[str] = set()
        self._dirty: set[str] = set()  # became due while a worker held it
        self._timers: dict[str, tuple[float, asyncio.TimerHandle]] = {}

    def __len__(self) -> int:
        return len(self._queued) + len(self._timers)

    def add(self, key: str, delay: float = 0.0) -> None:
        """Make `key` due after `delay` seconds, unless it is already due sooner."""
        if key in self._queued:
            return
        if delay <= 0:
            self._cancel(key)
            self._push(key)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        existing = self._timers.get(key)
        if existing is not None:
            if existing[0] <= due:
                return
            existing[1].cancel()
        self._timers[key] = (due, loop.call_at(due, self._fire, key))

    def forget(self, key: str) -> None:
        """Drop any pending timer for `key` (its object is gone)."""
        self._cancel(key)
        self._dirty.discard(key)

    async def get(self) -> str:
        """The next due key; the caller must call `done(key)` when finished with it."""
        key = await self._ready.get()
        self._queued.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self._push(key)

    def close(self) -> None:
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self._push(key)

    def _push(self, key: str) -> None:
        if key in self._processing:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._ready.put_nowait(key)

    def _cancel(self, key: str) -> None:
        existing = self._timers.pop(key, None)
        if existing is not None:
            existing[1].cancel()
