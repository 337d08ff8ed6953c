"""Watch responses: newline-delimited WatchEvent JSON over one chunked HTTP response.

The stream ends when `timeoutSeconds` passes (default: a random 30-60 minutes, so that
clients reconnect spread out), when the client goes away, or with an ERROR event (410 when
the start revision was compacted or the client fell too far behind).
"""

from __future__ import annotations

import asyncio
import random
import time

import orjson
from aiohttp import web

from edgekube.api import tables
from edgekube.api.negotiation import Wanted
from edgekube.errors import Gone
from edgekube.service.watching import ClientWatch, WatchEvent

BOOKMARK_INTERVAL = 60.0  # seconds of quiet before a bookmark, as Kubernetes roughly does
WATCHES = web.AppKey("watches", set[ClientWatch])
CLIENT_CHECK = 5.0  # seconds between checks that the client is still there, when nothing happens
DEFAULT_TIMEOUT = (1800.0, 3600.0)


def _frame(event: WatchEvent, wanted: Wanted, watch: ClientWatch, include: str) -> bytes:
    if wanted.as_table and event.type != "BOOKMARK":
        body = tables.table(watch.strategy, [event.decoded()], include=include)
        body["metadata"] = {"resourceVersion": str(event.revision)}
        return orjson.dumps({"type": event.type, "object": body}) + b"\n"
    if wanted.as_metadata and event.type != "BOOKMARK":
        return orjson.dumps({"type": event.type, "object": tables.partial_metadata(event.decoded())}) + b"\n"
    return b'{"type":"' + event.type.encode() + b'","object":' + event.value + b"}\n"


async def stream(
    request: web.Request,
    watch: ClientWatch,
    *,
    wanted: Wanted,
    timeout_seconds: int | None,
    bookmarks: bool,
    include: str,
    bookmark_interval: float = BOOKMARK_INTERVAL,
) -> web.StreamResponse:
    active = request.app[WATCHES]
    active.add(watch)
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    budget = float(timeout_seconds) if timeout_seconds else random.uniform(*DEFAULT_TIMEOUT)
    deadline = time.monotonic() + budget
    last_sent = time.monotonic()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if watch.closed or request.transport is None or request.transport.is_closing():
                break  # the server is stopping, or the client went away
            wait = min(left, bookmark_interval if bookmarks else left, CLIENT_CHECK)
            try:
                event = await watch.next(wait)
            except Gone as err:
                await response.write(orjson.dumps({"type": "ERROR", "object": err.status()}) + b"\n")
                break
            if event is None:
                if bookmarks and watch.idle() and time.monotonic() - last_sent >= bookmark_interval * 0.9:
                    await response.write(_frame(watch.bookmark(watch.last_revision), wanted, watch, include))
                    last_sent = time.monotonic()
                continue
            await response.write(_frame(event, wanted, watch, include))
            last_sent = time.monotonic()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        active.discard(watch)
        watch.close()
    try:
        await response.write_eof()
    except ConnectionResetError:
        pass
    return response


async def close_watches(app: web.Application) -> None:
    """On shutdown: end every open watch at once, so stopping does not wait on idle streams."""
    watches: set[ClientWatch] = app[WATCHES]
    for watch in list(watches):
        watch.close()
