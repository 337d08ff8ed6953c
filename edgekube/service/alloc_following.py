"""The informer loop of the write-path allocators: list one resource, then follow its watch.

What flows through: the stored objects of one resource (the first list, then every event)
-> the allocator's `rebuild` (the whole list) and `follow` (one event). The allocator
keeps the truth about who holds what; this loop only feeds it.

Invariants kept here:
  - `synced` is set only after a complete list has been applied, and cleared when the
    watch breaks (compaction, a lagging watcher), so admission never decides on a view
    that missed events;
  - `on_revision` sees every applied revision in order, so tests and callers can wait
    until the allocator has caught up with a write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from edgekube.errors import InternalError
from edgekube.store.errors import Compacted
from edgekube.store.store import Store
from edgekube.store.types import Event, StoredObject
from edgekube.store.watching import WatcherOverflow

log = structlog.get_logger(__name__)

RELIST_DELAY = 0.1  # seconds between a broken watch and the next list
# Seconds a write waits for its allocator's first list before giving up (500).
SYNC_TIMEOUT = 10.0


async def wait_synced(synced: asyncio.Event, what: str) -> None:
    """Until the allocator has listed once; a 500 saying so after SYNC_TIMEOUT."""
    if synced.is_set():
        return
    try:
        await asyncio.wait_for(synced.wait(), SYNC_TIMEOUT)
    except TimeoutError as err:
        raise InternalError(
            f"Internal error occurred: the {what} has not loaded the stored objects yet; try again"
        ) from err


async def following(
    *,
    store: Store,
    resource: str,
    rebuild: Callable[[list[StoredObject]], None],
    follow: Callable[[Event], None],
    synced: asyncio.Event,
    on_revision: Callable[[int], None],
    name: str,
) -> None:
    """List `resource`, then follow its changes until cancelled; re-list when the watch breaks."""
    bound = log.bind(allocator=name, resource=resource)
    while True:
        page = await store.list(resource, None)
        rebuild(page.items)
        on_revision(page.revision)
        synced.set()
        bound.info("allocator synced", revision=page.revision, objects=len(page.items))
        try:
            stream = store.watch(resource, None, page.revision)
            try:
                while True:
                    event = await stream.next(None)
                    if event is not None:
                        follow(event)
                        on_revision(event.revision)
            finally:
                stream.close()
        except (Compacted, WatcherOverflow):
            bound.info("allocator re-listing after a broken watch")
            # Writes wait for the fresh list rather than trust a view that missed events.
            synced.clear()
            await asyncio.sleep(RELIST_DELAY)
