"""The scheduling queue: pending pods by priority, with backoff and a parking lot.

Three places a pending pod can wait, as in kube-scheduler:
  active         ready now; popped highest `spec.priority` first, then first come.
  backoff        failed recently; comes back to active after 1s, 2s, 4s ... at most 10s
                 (doubling per failed attempt: attempts 1, 2, 3, 4, 5+ -> 1, 2, 4, 8, 10 s).
  unschedulable  fits nowhere; waits for a cluster change that could help (a node added
                 or changed, an assigned pod deleted ...) and then goes to backoff or, if
                 its backoff has already passed, to active. A pod parked longer than
                 `max_unschedulable_seconds` is retried anyway (nothing is level-triggered
                 enough to trust one missed event forever).
An event that arrives *while* a pod is being scheduled would be lost if the pod were then
parked, so a pod that fails after such an event goes to backoff instead.

Each key is in at most one place. Timers run on the event loop; nothing here blocks.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from dataclasses import dataclass

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_UNSCHEDULABLE_SECONDS = 300.0


class ShutDown(Exception):
    """The queue was closed; the loop popping from it should return."""


@dataclass(frozen=True, slots=True)
class Popped:
    key: str
    attempts: int  # including this one
    cycle: int  # the scheduling cycle this attempt is


@dataclass(slots=True)
class _Parked:
    plugins: frozenset[str]  # the plugins that rejected it; empty: any event may help
    since: float


class SchedulingQueue:
    def __init__(
        self,
        *,
        initial_backoff: float = INITIAL_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        max_unschedulable_seconds: float = MAX_UNSCHEDULABLE_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable_seconds = max_unschedulable_seconds
        self._clock = clock
        self._heap: list[tuple[int, int, str]] = []  # (-priority, seq, key); stale entries skipped
        self._active: dict[str, int] = {}  # key -> seq of its live heap entry
        self._priority: dict[str, int] = {}
        self._backoff: dict[str, asyncio.TimerHandle] = {}
        self._parked: dict[str, _Parked] = {}
        self._parked_by_plugin: dict[str, set[str]] = {}  # plugin -> parked keys it rejected
        self._parked_by_any: set[str] = set()  # parked keys no plugin claimed: any event may help
        self._attempts: dict[str, int] = {}
        self._failed_at: dict[str, float] = {}
        self._seq = 0
        self._cycle = 0
        self._moved_at_cycle = -1  # the cycle during which the last cluster event arrived
        self._wakeup = asyncio.Event()
        self._closed = False

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    # -- what is where ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._active) + len(self._backoff) + len(self._parked)

    def __contains__(self, key: str) -> bool:
        return key in self._active or key in self._backoff or key in self._parked

    @property
    def active_count(self) -> int:
        return len(self._active)

    @property
    def backoff_count(self) -> int:
        return len(self._backoff)

    @property
    def unschedulable_count(self) -> int:
        return len(self._parked)

    def attempts(self, key: str) -> int:
        return self._attempts.get(key, 0)

    # -- adding and taking -----------------------------------------------------------------

    def add(self, key: str, priority: int = 0) -> None:
        """A new pending pod, or one whose spec changed: ready now."""
        self._priority[key] = priority
        self._unpark(key)
        self._cancel_backoff(key)
        self._activate(key)

    def update(self, key: str, priority: int = 0) -> None:
        """A pending pod changed in a way that may make it fit: parked pods try again."""
        self._priority[key] = priority
        if key in self._parked:
            self._release(key)
        elif key not in self._active and key not in self._backoff:
            self._activate(key)

    async def pop(self) -> Popped:
        """The next pod to schedule; waits while none is ready."""
        while True:
            while self._heap:
                _, seq, key = heapq.heappop(self._heap)
                if self._active.get(key) == seq:
                    del self._active[key]
                    self._cycle += 1
                    attempts = self._attempts[key] = self._attempts.get(key, 0) + 1
                    return Popped(key, attempts, self._cycle)
            if self._closed:
                raise ShutDown()
            self._wakeup.clear()
            await self._wakeup.wait()

    # -- after an attempt ------------------------------------------------------------------

    def unschedulable(self, popped: Popped, plugins: frozenset[str]) -> None:
        """It fits nowhere: park it until an event that `plugins` care about."""
        key = popped.key
        self._failed_at[key] = self._now()
        if key in self:
            return  # re-added (changed) while being scheduled: leave it where it is
        if self._moved_at_cycle >= popped.cycle:
            self._to_backoff(key)
        else:
            self._park(key, plugins)

    def failed(self, popped: Popped) -> None:
        """An error (not a verdict): try again after the backoff."""
        self._failed_at[popped.key] = self._now()
        if popped.key not in self:
            self._to_backoff(popped.key)

    def done(self, key: str) -> None:
        """Scheduled (or gone): forget its attempts."""
        self.delete(key)

    def delete(self, key: str) -> None:
        self._active.pop(key, None)
        self._cancel_backoff(key)
        self._unpark(key)
        self._attempts.pop(key, None)
        self._failed_at.pop(key, None)
        self._priority.pop(key, None)

    # -- cluster events ----------------------------------------------------------------------

    def move(self, plugins: frozenset[str] | None = None) -> int:
        """Something changed that `plugins` care about (None: anything): retry the pods it may help."""
        self._moved_at_cycle = self._cycle
        if not self._parked:
            return 0
        if plugins is None:
            moving: set[str] = set(self._parked)
        else:
            moving = set(self._parked_by_any)
            for plugin in plugins:
                moving.update(self._parked_by_plugin.get(plugin, ()))
        for key in moving:
            self._release(key)
        return len(moving)

    def flush_stale(self) -> int:
        """Retry pods parked for longer than `max_unschedulable_seconds`."""
        limit = self._now() - self.max_unschedulable_seconds
        stale = [key for key, parked in self._parked.items() if parked.since <= limit]
        for key in stale:
            self._release(key)
        return len(stale)

    def close(self) -> None:
        self._closed = True
        for timer in self._backoff.values():
            timer.cancel()
        self._backoff.clear()
        self._wakeup.set()

    # -- internals -----------------------------------------------------------------------

    def backoff_seconds(self, attempts: int) -> float:
        """1s after the first failed attempt, doubling, at most `max_backoff`."""
        return float(min(self.initial_backoff * 2.0 ** max(attempts - 1, 0), self.max_backoff))

    def _park(self, key: str, plugins: frozenset[str]) -> None:
        self._parked[key] = _Parked(plugins, self._now())
        if not plugins:
            self._parked_by_any.add(key)
        for plugin in plugins:
            self._parked_by_plugin.setdefault(plugin, set()).add(key)

    def _release(self, key: str) -> None:
        self._unpark(key)
        remaining = self._failed_at.get(key, 0.0) + self.backoff_seconds(self.attempts(key)) - self._now()
        if remaining > 0:
            self._to_backoff(key, remaining)
        else:
            self._activate(key)

    def _to_backoff(self, key: str, delay: float | None = None) -> None:
        if delay is None:
            delay = self.backoff_seconds(self.attempts(key))
        loop = asyncio.get_running_loop()
        self._backoff[key] = loop.call_later(delay, self._backoff_over, key)

    def _backoff_over(self, key: str) -> None:
        if self._backoff.pop(key, None) is not None:
            self._activate(key)

    def _unpark(self, key: str) -> None:
        parked = self._parked.pop(key, None)
        if parked is None:
            return
        self._parked_by_any.discard(key)
        for plugin in parked.plugins:
            keys = self._parked_by_plugin.get(plugin)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._parked_by_plugin[plugin]

    def _cancel_backoff(self, key: str) -> None:
        timer = self._backoff.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _activate(self, key: str) -> None:
        if self._closed or key in self._active:
            return
        self._seq += 1
        self._active[key] = self._seq
        heapq.heappush(self._heap, (-self._priority.get(key, 0), self._seq, key))
        self._wakeup.set()
