"""Reads: single objects, pages of lists (now or at an older revision) and log replays.

Reads run on a small thread pool with their own connections; WAL lets them proceed while
the writer commits. Each read is one transaction, so a list and the revision it reports
come from the same snapshot.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine

from edgekube.store.dialects.base import BaseDialect, Row
from edgekube.store.errors import Compacted
from edgekube.store.types import Key, ListPage, StoredObject

T = TypeVar("T")


class Reader:
    def __init__(self, engine: Engine, dialect: BaseDialect, *, threads: int = 4) -> None:
        self._engine = engine
        self._dialect = dialect
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store-reader")

    async def _run(self, fn: Callable[[Connection], T]) -> T:
        def work() -> T:
            with self._engine.connect() as conn:
                self._dialect.begin_read(conn)
                with conn.begin():
                    return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    async def get(self, key: Key) -> StoredObject | None:
        row = await self._run(lambda c: self._dialect.get_object(c, key))
        return None if row is None else StoredObject(key, row.revision, row.value)

    async def list(
        self,
        resource: str,
        namespace: str | None,
        *,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
        revision: int | None = None,
    ) -> ListPage:
        """A page of live objects in key order. With `revision`, as they were at that revision.

        Asks for one row more than `limit` to know whether more follow.
        """
        fetch = None if limit is None else limit + 1

        def work(conn: Connection) -> ListPage:
            current, compact = self._dialect.read_state(conn)
            if revision is None or revision >= current:
                rows = self._dialect.list_current(conn, resource, namespace, after, fetch)
                at = current
            else:
                if revision < compact:
                    raise Compacted(revision, compact)
                rows = self._dialect.list_at(conn, resource, namespace, revision, after, fetch)
                at = revision
            more = limit is not None and len(rows) > limit
            if more:
                rows = rows[:limit]
            items = [StoredObject(Key(resource, r.namespace, r.name), r.revision, r.value) for r in rows]
            return ListPage(items=items, revision=at, more=more)

        return await self._run(work)

    async def events_after(
        self, resource: str | None, namespace: str | None, after: int, limit: int
    ) -> tuple[builtins.list[Row], int]:
        """Log rows after `after` and the compaction horizon seen in the same snapshot."""

        def work(conn: Connection) -> tuple[builtins.list[Row], int]:
            _current, compact = self._dialect.read_state(conn)
            if after < compact:
                raise Compacted(after, compact)
            return self._dialect.events_after(conn, resource, namespace, after, limit), compact

        return await self._run(work)

    async def values_at(self, revisions: builtins.list[int]) -> dict[int, bytes]:
        return await self._run(lambda c: self._dialect.values_at(c, revisions))

    async def state(self) -> tuple[int, int]:
        return await self._run(self._dialect.read_state)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
