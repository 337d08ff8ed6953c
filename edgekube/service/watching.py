"""Watches as clients see them: selectors applied, initial state, bookmarks.

Turns the store's per-resource event stream into the events one client asked for. With a
selector, an object that starts matching arrives as ADDED and one that stops matching as
DELETED, so a client's cache of the selection stays exact.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from edgekube.errors import Gone
from edgekube.resources.strategy import Strategy
from edgekube.service.listing import Selection
from edgekube.store.errors import Compacted
from edgekube.store.store import Store, WatchStream
from edgekube.store.types import Event, EventType, StoredObject
from edgekube.store.watching import WatcherOverflow

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(slots=True)
class WatchEvent:
    """One event for the client. `value` is the object's JSON, ready to send."""

    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    value: bytes
    revision: int
    obj: dict[str, Any] | None = None

    def decoded(self) -> dict[str, Any]:
        if self.obj is None:
            self.obj = orjson.loads(self.value)
        return self.obj


class ClientWatch:
    """Filtered events for one client, starting with any initial state it asked for."""

    def __init__(
        self,
        store: Store,
        strategy: Strategy,
        sel: Selection,
        start_revision: int,
        initial: list[StoredObject] | None = None,
        *,
        initial_end_bookmark: bool = False,
    ) -> None:
        self.strategy = strategy
        self._sel = sel
        self._stream: WatchStream = store.watch(
            strategy.kind.store_key, sel.namespace, start_revision, want_prev=not sel.everything
        )
        self._initial: deque[WatchEvent] = deque()
        self._closed = False
        for item in initial or ():
            ev = WatchEvent("ADDED", item.value, item.revision)
            if sel.everything or sel.matches(strategy, ev.decoded()):
                self._initial.append(ev)
        if initial_end_bookmark:
            self._initial.append(self.bookmark(start_revision, initial_end=True))

    def bookmark(self, revision: int, *, initial_end: bool = False) -> WatchEvent:
        kind = self.strategy.kind
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        body = {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}
        return WatchEvent("BOOKMARK", orjson.dumps(body), revision, body)

    @property
    def last_revision(self) -> int:
        return self._stream.last

    def idle(self) -> bool:
        """No event is waiting: a bookmark at `last_revision` would be truthful."""
        return not self._initial and self._stream.pending() == 0

    async def next(self, wait_seconds: float | None) -> WatchEvent | None:
        """The next event for the client, or None after `wait_seconds` without one."""
        if self._initial:
            return self._initial.popleft()
        while True:
            try:
                event = await self._stream.next(wait_seconds)
            except Compacted as err:
                raise Gone(f"too old resource version: {err.revision} ({err.compact_revision})") from err
            except WatcherOverflow as err:
                raise Gone(
                    "the watch fell too far behind and was closed; watch again from the last resourceVersion"
                ) from err
            if event is None:
                return None
            out = self._translate(event)
            if out is not None:
                return out

    def _translate(self, event: Event) -> WatchEvent | None:
        kind = event.type
        if self._sel.everything:
            return WatchEvent(kind.name, event.value, event.revision, event.obj)
        now = self._sel.matches(self.strategy, event.decoded())
        if kind is EventType.ADDED:
            return WatchEvent("ADDED", event.value, event.revision, event.obj) if now else None
        if kind is EventType.DELETED:
            return WatchEvent("DELETED", event.value, event.revision, event.obj) if now else None
        before = None if event.prev_obj is None else self._sel.matches(self.strategy, event.prev_obj)
        if now and before is False:
            return WatchEvent("ADDED", event.value, event.revision, event.obj)
        if not now and before:
            return WatchEvent("DELETED", event.value, event.revision, event.obj)
        if now:
            return WatchEvent("MODIFIED", event.value, event.revision, event.obj)
        return None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._stream.close()
