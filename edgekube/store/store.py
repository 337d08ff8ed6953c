"""The store facade: the only object the resource service talks to.

It opens the database through a dialect, runs the single writer, the readers, the watch
hub and compaction, and exposes revisioned create/update/delete, get, paged list (now or
at a past revision) and watch-from-revision.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson
import structlog
from sqlalchemy import Connection

from edgekube.store.dialects.base import BaseDialect
from edgekube.store.errors import Compacted
from edgekube.store.reading import Reader
from edgekube.store.types import Event, Key, ListPage, StoredObject
from edgekube.store.watching import WatcherOverflow, WatchHub
from edgekube.store.writing import Write, Writer

log = structlog.get_logger(__name__)

REPLAY_PAGE = 1000


class Store:
    def __init__(
        self,
        dialect: BaseDialect,
        *,
        history: int = 1000,
        watcher_buffer: int = 10000,
        max_batch: int = 256,
        read_threads: int = 4,
    ) -> None:
        self.dialect = dialect
        self.engine = dialect.create_engine()
        self.hub = WatchHub(history=history, watcher_buffer=watcher_buffer)
        self._writer = Writer(self.engine, dialect, self.hub.publish, max_batch=max_batch)
        self._reader = Reader(self.engine, dialect, threads=read_threads)
        self.compact_revision = 0

    async def open(self) -> None:
        """Read the revision counters and start the writer. The schema must already exist."""

        def init(conn: Connection) -> tuple[int, int]:
            self.dialect.ensure_state(conn)
            return self.dialect.read_state(conn)

        def work() -> tuple[int, int]:
            with self.engine.connect() as conn:
                self.dialect.begin_write(conn)
                with conn.begin():
                    return init(conn)

        current, compact = await self._writer.run_exclusive(work)
        self.hub.published_revision = current
        self.compact_revision = compact
        self._writer.start()
        log.info("store opened", dialect=self.dialect.name, revision=current, compact_revision=compact)

    async def close(self) -> None:
        await self._writer.close()
        self._reader.close()
        self.engine.dispose()

    @property
    def revision(self) -> int:
        """The newest committed (and published) revision."""
        return self.hub.published_revision

    # -- writes -------------------------------------------------------------------------

    async def create(self, key: Key, obj: dict[str, Any]) -> Event:
        return await self._writer.submit(Write("create", key, obj))

    async def update(
        self, key: Key, obj: dict[str, Any], *, expected_revision: int | None, prev_obj: dict[str, Any] | None
    ) -> Event:
        return await self._writer.submit(Write("update", key, obj, expected_revision, prev_obj))

    async def delete(self, key: Key, last: dict[str, Any], *, expected_revision: int | None) -> Event:
        """Remove `key`; `last` is its final state, which the DELETED event carries."""
        return await self._writer.submit(Write("delete", key, last, expected_revision, last))

    # -- reads ----------------------------------------------------------------------------

    async def get(self, key: Key) -> StoredObject | None:
        return await self._reader.get(key)

    async def list(
        self,
        resource: str,
        namespace: str | None,
        *,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
        revision: int | None = None,
    ) -> ListPage:
        # A read may see a commit not yet published to watchers; a watch from its revision
        # is still gap-free, because the stream skips events at or below where it starts.
        return await self._reader.list(resource, namespace, after=after, limit=limit, revision=revision)

    def watch(self, resource: str | None, namespace: str | None, after: int, *, want_prev: bool = False) -> WatchStream:
        """Events of `resource` after revision `after`. Raises Compacted if that is too old."""
        if after < self.compact_revision:
            raise Compacted(after, self.compact_revision)
        return WatchStream(self, resource, namespace, after, want_prev)

    # -- maintenance ----------------------------------------------------------------------

    async def compact(self, horizon: int, *, slice_size: int = 5000) -> int:
        removed = 0
        start = self.compact_revision
        while start < horizon:
            upto = min(horizon, start + slice_size)

            def work(lo: int = start, hi: int = upto) -> int:
                with self.engine.connect() as conn:
                    self.dialect.begin_write(conn)
                    with conn.begin():
                        n = self.dialect.compact(conn, lo, hi)
                        self.dialect.set_compact_revision(conn, hi)
                        return n

            removed += await self._writer.run_exclusive(work)
            self.compact_revision = upto
            start = upto
        return removed

    async def state(self) -> tuple[int, int]:
        return await self._reader.state()

    @property
    def reader(self) -> Reader:
        return self._reader


class WatchStream:
    """Replays events after a revision (from memory or disk), then follows live ones.

    The watcher subscribes before any replay, so nothing committed meanwhile is missed;
    events seen twice (on disk and live) are dropped by revision.
    """

    def __init__(self, store: Store, resource: str | None, namespace: str | None, after: int, want_prev: bool) -> None:
        self._store = store
        self._resource = resource
        self._namespace = namespace
        self._want_prev = want_prev
        self.last = after  # the newest revision handed out (or skipped as not ours)
        self._watcher = store.hub.subscribe(resource, namespace)
        self._backlog: deque[Event] = deque()
        self._disk_until = 0
        replay = store.hub.replay_from_memory(after)
        if replay is None:
            self._disk_until = store.hub.published_revision
        else:
            self._backlog.extend(e for e in replay if self._ours(e))

    def _ours(self, event: Event) -> bool:
        if self._resource is not None and event.key.resource != self._resource:
            return False
        return self._namespace is None or event.key.namespace == self._namespace

    async def next(self, wait_seconds: float | None = None) -> Event | None:
        """The next event, or None on timeout. Raises Compacted or WatcherOverflow."""
        while True:
            if not self._backlog and self.last < self._disk_until:
                await self._fill_from_disk()
            if self._backlog:
                event: Event | None = self._backlog.popleft()
            else:
                event = await self._watcher.next(wait_seconds)
                if event is None:
                    return None
            assert event is not None
            if event.revision <= self.last:
                continue  # seen already (on disk and live)
            self.last = event.revision
            return event

    async def _fill_from_disk(self) -> None:
        rows, _compact = await self._store.reader.events_after(self._resource, self._namespace, self.last, REPLAY_PAGE)
        rows = [r for r in rows if r.revision <= self._disk_until]
        if not rows:
            self._disk_until = 0  # nothing more on disk for us: the rest arrives live
            return
        prev_values: dict[int, bytes] = {}
        if self._want_prev:
            wanted = [r.prev_revision for r in rows if r.prev_revision is not None]
            prev_values = await self._store.reader.values_at(wanted) if wanted else {}
        for r in rows:
            prev = prev_values.get(r.prev_revision) if r.prev_revision is not None else None
            self._backlog.append(
                Event(
                    revision=r.revision,
                    type=r.type,
                    key=Key(r.resource, r.namespace, r.name),
                    value=r.value,
                    prev_obj=None if prev is None else orjson.loads(prev),
                    prev_revision=r.prev_revision,
                )
            )
        if len(rows) < REPLAY_PAGE:
            self._disk_until = 0

    def pending(self) -> int:
        return len(self._backlog) + self._watcher.pending()

    def close(self) -> None:
        self._watcher.close()


__all__ = ["Compacted", "Store", "WatchStream", "WatcherOverflow"]
