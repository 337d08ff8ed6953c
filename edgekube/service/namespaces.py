"""Which namespaces exist and which are being deleted, kept in memory from the store's watch.

Every create of a namespaced object asks this; reading the namespace from the database each
time cost a fifth of the create path. The cache is filled by one list, then follows the
watch. A name the cache does not know yet (created a moment ago, event not yet applied) is
read from the store, so a fresh namespace is usable at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import structlog

from edgekube.store.errors import Compacted
from edgekube.store.store import Store
from edgekube.store.types import EventType, Key
from edgekube.store.watching import WatcherOverflow

log = structlog.get_logger(__name__)

NAMESPACES = "core/namespaces"


def terminating(ns: dict[str, Any]) -> bool:
    return (
        bool((ns.get("metadata") or {}).get("deletionTimestamp"))
        or (ns.get("status") or {}).get("phase") == "Terminating"
    )


class NamespaceCache:
    """name -> terminating? for every namespace; `None` from `state()` means it does not exist."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[str, bool] = {}

    async def state(self, name: str) -> bool | None:
        """False: exists and active; True: being deleted; None: no such namespace."""
        if name in self._known:
            return self._known[name]
        item = await self._store.get(Key(NAMESPACES, "", name))
        return None if item is None else terminating(item.decode())

    async def run(self) -> None:
        """Fill the cache and follow changes until cancelled; re-list when the watch breaks."""
        while True:
            page = await self._store.list(NAMESPACES, None)
            self._known = {i.key.name: terminating(i.decode()) for i in page.items}
            try:
                stream = self._store.watch(NAMESPACES, None, page.revision)
                try:
                    while True:
                        event = await stream.next(None)
                        if event is None:
                            continue
                        if event.type is EventType.DELETED:
                            self._known.pop(event.key.name, None)
                        else:
                            obj = event.obj if event.obj is not None else orjson.loads(event.value)
                            self._known[event.key.name] = terminating(obj)
                finally:
                    stream.close()
            except (Compacted, WatcherOverflow):
                log.info("namespace cache re-listing after a broken watch")
                await asyncio.sleep(0.1)
