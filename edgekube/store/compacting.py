"""Compaction: keeps the event log to a bounded window of time and of count.

Every `interval` the loop notes (time, current revision). The horizon is the newer of:
the revision current `retention_seconds` ago, and `current - retention_events`. Rows that
no revision from the horizon on can see are deleted, in slices so the writer is never
held for long. Watches and continue tokens older than the horizon then get 410 Gone.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from edgekube.store.store import Store

log = structlog.get_logger(__name__)

SLICE = 5000  # revisions per compaction transaction


def choose_horizon(
    checkpoints: deque[tuple[float, int]], now: float, current: int, retention_seconds: float, retention_events: int
) -> int:
    """The revision to compact up to. Drops checkpoints older than the one it uses."""
    by_time = 0
    while checkpoints and checkpoints[0][0] <= now - retention_seconds:
        by_time = checkpoints.popleft()[1]
    by_count = current - retention_events
    return max(by_time, by_count, 0)


async def compacting(*, store: Store, interval: float, retention_seconds: float, retention_events: int) -> None:
    """Runs until cancelled."""
    checkpoints: deque[tuple[float, int]] = deque()
    while True:
        await asyncio.sleep(interval)
        try:
            current = store.revision
            now = time.monotonic()
            checkpoints.append((now, current))
            horizon = choose_horizon(checkpoints, now, current, retention_seconds, retention_events)
            if horizon > store.compact_revision:
                removed = await store.compact(horizon, slice_size=SLICE)
                log.info("compacted", revision=horizon, removed=removed)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # compaction is best-effort; the next tick retries
            log.warning("compaction failed", error=repr(err))
