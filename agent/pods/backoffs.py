"""Crash-loop and image-pull backoff, as the kubelet does it; pure, times are event-loop seconds.

A crashed container is restarted at once the first time; each later crash waits
`initial`, then twice that, up to `max`:

    crash 1 -> restart at once      (next wait 10 s)
    crash 2 -> wait 10 s, restart   (next wait 20 s)
    crash 3 -> wait 20 s, restart   (next wait 40 s) ... capped at 300 s

A container that ran for `reset` seconds or more before it exited starts afresh (its
crash counts as crash 1). Image pulls use the same doubling from their first failure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    next_delay: float = 0.0
    """The wait the next failure will get (0: none yet, the next restart is immediate)."""
    retry_at: float = 0.0
    """Loop time before which no retry may happen."""
    delay: float = 0.0
    """The wait this failure got (for messages: "back-off 20s ...")."""

    def waiting(self, now: float) -> bool:
        return now < self.retry_at

    def remaining(self, now: float) -> float:
        return max(0.0, self.retry_at - now)


def after_crash(
    state: Backoff, *, finished_at: float, ran_for: float, initial: float, maximum: float, reset: float
) -> Backoff:
    """The backoff after a container exited at loop time `finished_at`, having run `ran_for` seconds."""
    delay = 0.0 if ran_for >= reset else state.next_delay
    following = initial if delay == 0 else min(maximum, delay * 2)
    return Backoff(next_delay=following, retry_at=finished_at + delay, delay=delay)


def after_pull_failure(state: Backoff, *, failed_at: float, initial: float, maximum: float) -> Backoff:
    """The backoff after an image pull failed: wait `initial`, then double up to `maximum`."""
    delay = initial if state.next_delay == 0 else state.next_delay
    return Backoff(next_delay=min(maximum, delay * 2), retry_at=failed_at + delay, delay=delay)
