"""Creates and deletes of kinds the quota controller counts without an informer of their own.

A quota may count any kind (`count/deployments.apps`, `count/leases.coordination.k8s.io`);
keeping a cache of every kind for that would cost memory an edge server does not have.
So those kinds are listed from the store when a quota is synced, and this loop follows
one watch over every resource to tell when to sync: a create or delete of an object
whose namespace has a quota counting its kind queues that namespace. Only the event's
key is read, never its body. Changes can be missed only when the watch breaks; then
every namespace is queued again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from edgekube.store.errors import Compacted
from edgekube.store.store import Store, WatchStream
from edgekube.store.types import EventType
from edgekube.store.watching import WatcherOverflow

log = structlog.get_logger(__name__)


async def follow_counts(
    *,
    store: Store,
    stream: WatchStream,
    counted: Callable[[str, str], bool],
    enqueue: Callable[[str], None],
    enqueue_all: Callable[[], None],
) -> None:
    """Queue namespaces as objects `counted(store_key, namespace)` come and go; until cancelled.

    `stream` is opened by the caller before its first syncs, so nothing falls between them.
    """
    while True:
        try:
            try:
                while True:
                    event = await stream.next(None)
                    if event is None or event.type is EventType.MODIFIED:
                        continue
                    if counted(event.key.resource, event.key.namespace):
                        enqueue(event.key.namespace)
            finally:
                stream.close()
        except (Compacted, WatcherOverflow):
            log.info("quota controller following counts again after a broken watch")
            await asyncio.sleep(0.1)
            stream = store.watch(None, None, store.revision)
            enqueue_all()
