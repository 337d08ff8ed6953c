"""Waiting with a time limit, without losing a cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def wait_event(waiting: Awaitable[Any], seconds: float | None) -> None:
    """Await `waiting` for at most `seconds` (None: no limit); TimeoutError after that.

    Not `asyncio.wait_for`: on Python 3.11 it returns normally when it is cancelled at the
    moment the awaited thing completes (an event set just before a worker is stopped), so
    a loop cancelled that way never ends. `asyncio.timeout` keeps the cancellation.
    """
    async with asyncio.timeout(seconds):
        await waiting
