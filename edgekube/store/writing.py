"""The single writer: batches concurrent writes into one durable transaction (group commit).

Writes queue up while the previous batch commits; the next batch takes everything queued.
Inside a batch each write is checked in order against the state the batch has built so
far (existence, expected revision), the survivors get consecutive revisions, and one
commit makes them durable together. Only then are callers answered and events published,
in revision order, so a watcher never sees a change that a crash could undo.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import structlog
from sqlalchemy import Engine

from edgekube.store.dialects.base import BaseDialect, NewEvent
from edgekube.store.errors import KeyExists, KeyNotFound, RevisionMismatch, StoreClosed
from edgekube.store.types import Event, EventType, Key

log = structlog.get_logger(__name__)

Op = Literal["create", "update", "delete"]


@dataclass(slots=True)
class Write:
    """One requested change. `obj` is the full new object (for a delete: its last state)."""

    op: Op
    key: Key
    obj: dict[str, Any]
    expected_revision: int | None = None
    prev_obj: dict[str, Any] | None = None
    future: asyncio.Future[Event] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(slots=True)
class _Outcome:
    event: Event | None = None
    error: Exception | None = None


class Writer:
    """Owns the only write connection; `submit` is safe to call from any task."""

    def __init__(
        self,
        engine: Engine,
        dialect: BaseDialect,
        publish: Callable[[Event], None],
        *,
        max_batch: int = 256,
    ) -> None:
        self._engine = engine
        self._dialect = dialect
        self._publish = publish
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Write] = asyncio.Queue()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="store-writer")

    async def submit(self, write: Write) -> Event:
        if self._closed:
            raise StoreClosed("the store is closed")
        self._queue.put_nowait(write)
        return await write.future

    async def run_exclusive(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the writer thread, between batches (compaction uses this)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn)

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():  # its caller may have been cancelled meanwhile
                pending.future.set_exception(StoreClosed("the store is closed"))
        self._thread.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                outcomes = await loop.run_in_executor(self._thread, self._apply, batch)
            except Exception as err:  # the transaction failed as a whole: fail every write in it
                log.error("store batch failed", size=len(batch), error=repr(err))
                for w in batch:
                    if not w.future.done():
                        w.future.set_exception(err)
                continue
            for w, outcome in zip(batch, outcomes, strict=True):
                if outcome.event is not None:
                    self._publish(outcome.event)
                if w.future.done():  # the caller went away (cancelled); the write still stands
                    continue
                if outcome.error is not None:
                    w.future.set_exception(outcome.error)
                else:
                    assert outcome.event is not None
                    w.future.set_result(outcome.event)

    def _apply(self, batch: list[Write]) -> list[_Outcome]:
        """Blocking: check, number and commit one batch. Runs on the writer thread."""
        with self._engine.connect() as conn:
            self._dialect.begin_write(conn)
            with conn.begin():
                current = self._dialect.current_revisions(conn, {w.key for w in batch})
                outcomes: list[_Outcome] = []
                accepted: list[tuple[Write, EventType, int | None]] = []
                for w in batch:
                    error, kind, prev = _check(w, current)
                    if error is not None:
                        outcomes.append(_Outcome(error=error))
                        continue
                    # Mark the key's new state for the writes after this one in the batch;
                    # the real revision is filled in below once the count is known.
                    current[w.key] = -1
                    if kind is EventType.DELETED:
                        del current[w.key]
                    accepted.append((w, kind, prev))
                    outcomes.append(_Outcome())
                if not accepted:
                    return outcomes
                first = self._dialect.allocate_revisions(conn, len(accepted))
                rows: list[NewEvent] = []
                live: dict[Key, NewEvent] = {}
                gone: dict[Key, None] = {}
                revision_of: dict[Key, int] = {}
                for offset, (w, kind, prev) in enumerate(accepted):
                    revision = first + offset
                    if prev == -1:  # changed earlier in this same batch
                        prev = revision_of[w.key]
                    w.obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
                    row = NewEvent(w.key, revision, kind, prev, orjson.dumps(w.obj))
                    rows.append(row)
                    revision_of[w.key] = revision
                    if kind is EventType.DELETED:
                        live.pop(w.key, None)
                        gone[w.key] = None
                    else:
                        gone.pop(w.key, None)
                        live[w.key] = row
                self._dialect.insert_events(conn, rows)
                if live:
                    self._dialect.upsert_objects(conn, list(live.values()))
                if gone:
                    self._dialect.delete_objects(conn, list(gone))
        # Committed: build the events the watchers will see, in revision order.
        it = iter(rows)
        for (w, _kind, _prev), outcome in zip(accepted, (o for o in outcomes if o.error is None), strict=True):
            row = next(it)
            outcome.event = Event(
                revision=row.revision,
                type=row.type,
                key=row.key,
                value=row.value,
                obj=w.obj,
                prev_obj=w.prev_obj,
                prev_revision=row.prev_revision,
            )
        return outcomes


def _check(w: Write, current: dict[Key, int]) -> tuple[Exception | None, EventType, int | None]:
    """Whether `w` may apply to the key's current revision; and the event type and previous revision."""
    now = current.get(w.key)
    if w.op == "create":
        if now is not None:
            return KeyExists(w.key), EventType.ADDED, None
        return None, EventType.ADDED, None
    if now is None:
        return KeyNotFound(w.key), EventType.MODIFIED, None
    if w.expected_revision is not None and now != w.expected_revision:
        return RevisionMismatch(w.key, w.expected_revision, now), EventType.MODIFIED, None
    kind = EventType.DELETED if w.op == "delete" else EventType.MODIFIED
    return None, kind, now
