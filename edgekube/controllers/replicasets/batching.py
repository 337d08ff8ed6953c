"""Slow start: many creates are sent in batches of 1, 2, 4, 8 ... and stop at the first error.

A ReplicaSet asked for 500 pods in a namespace whose quota allows none should send one
doomed request, not 500. Each batch runs concurrently; when any call in a batch fails,
no further batch starts, and the caller learns how many calls succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

INITIAL_BATCH = 1


def slow_start_batches(count: int, initial: int = INITIAL_BATCH) -> list[int]:
    """The batch sizes for `count` calls: 1, 2, 4 ... with the last one cut to fit.

    Worked example: 10 calls run as [1, 2, 4, 3]; 7 calls as [1, 2, 4].
    """
    sizes: list[int] = []
    remaining, size = count, max(initial, 1)
    while remaining > 0:
        batch = min(size, remaining)
        sizes.append(batch)
        remaining -= batch
        size *= 2
    return sizes


async def slow_start(count: int, call: Callable[[], Awaitable[None]]) -> tuple[int, Exception | None]:
    """Run `call` `count` times in slow-start batches; (successful calls, first error or None)."""
    done = 0
    for size in slow_start_batches(count):
        results = await asyncio.gather(*(call() for _ in range(size)), return_exceptions=True)
        errors: list[Exception] = []
        for result in results:
            if isinstance(result, Exception):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result  # cancellation and the like are not call failures
        done += size - len(errors)
        if errors:
            return done, errors[0]
    return done, None
