"""Noticing that an HTTP client went away while its handler waits on something else.

aiohttp does not cancel a handler when its client disconnects, so a `logs -f` whose
container prints nothing would hold its Podman connection forever. `until_gone` runs
the work and polls the transport; whichever ends first ends the other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from aiohttp import web


def gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def until_gone(request: web.Request, work: Awaitable[None], *, interval: float) -> bool:
    """Run `work` until it ends (True) or the client disconnects first (False, work cancelled)."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=interval)
            if done:
                task.result()
                return True
            if gone(request):
                return False
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
