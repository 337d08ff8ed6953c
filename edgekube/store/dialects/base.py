"""Portable SQL over the shared tables; a database's dialect subclasses this.

Every statement has a method whose name says what it does, so logs and metrics can name
the query. All methods are blocking and take an open connection: the store runs them in
its own threads, never on the event loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from edgekube.store.dialects.tables import events, metadata, objects, state
from edgekube.store.types import EventType, Key


@dataclass(slots=True)
class Row:
    """One object or event row as the log layer sees it."""

    namespace: str
    name: str
    revision: int
    value: bytes
    type: EventType = EventType.ADDED
    prev_revision: int | None = None
    resource: str = ""


@dataclass(slots=True)
class NewEvent:
    """A row for `events`, written together with the matching `objects` change."""

    key: Key
    revision: int
    type: EventType
    prev_revision: int | None
    value: bytes


# The statements on the write and get paths are built once: constructing SQLAlchemy
# expressions per call was a tenth of the create path's CPU.
_CURRENT_REVISIONS = select(objects.c.resource, objects.c.namespace, objects.c.name, objects.c.revision).where(
    tuple_(objects.c.resource, objects.c.namespace, objects.c.name).in_(bindparam("keys", expanding=True))
)
_INSERT_EVENTS = insert(events)
_DELETE_OBJECT = delete(objects).where(
    and_(
        objects.c.resource == bindparam("r"),
        objects.c.namespace == bindparam("ns"),
        objects.c.name == bindparam("n"),
    )
)
_GET_OBJECT = (
    select(events.c.revision, events.c.value)
    .select_from(objects.join(events, events.c.revision == objects.c.revision))
    .where(
        and_(
            objects.c.resource == bindparam("r"),
            objects.c.namespace == bindparam("ns"),
            objects.c.name == bindparam("n"),
        )
    )
)


class BaseDialect(ABC):
    """Statements that read the same on every supported database; a dialect adds the rest."""

    name = "base"

    @abstractmethod
    def create_engine(self) -> Engine:
        """An engine with the database's pragmas and transaction handling set up."""

    @abstractmethod
    def begin_write(self, conn: Connection) -> None:
        """Make the next transaction on `conn` a write transaction (take the write lock at once)."""

    @abstractmethod
    def begin_read(self, conn: Connection) -> None:
        """Make the next transaction on `conn` a snapshot read."""

    @abstractmethod
    def upsert_objects(self, conn: Connection, rows: Sequence[NewEvent]) -> None:
        """Point each row's key at its new revision, inserting keys that are new."""

    # -- schema and state -----------------------------------------------------------------

    def ensure_state(self, conn: Connection) -> None:
        if conn.execute(select(state.c.id)).first() is None:
            conn.execute(insert(state).values(id=1, current_revision=0, compact_revision=0))

    def read_state(self, conn: Connection) -> tuple[int, int]:
        """(current revision, compact revision)."""
        row = conn.execute(select(state.c.current_revision, state.c.compact_revision)).one()
        return int(row[0]), int(row[1])

    def allocate_revisions(self, conn: Connection, count: int) -> int:
        """Reserve `count` revisions; returns the first. Holds the state row lock until commit,
        so concurrent writers (several servers on one database) commit in revision order."""
        stmt = (
            update(state)
            .where(state.c.id == 1)
            .values(current_revision=state.c.current_revision + count)
            .returning(state.c.current_revision)
        )
        last = int(conn.execute(stmt).scalar_one())
        return last - count + 1

    def set_compact_revision(self, conn: Connection, revision: int) -> None:
        conn.execute(update(state).where(state.c.id == 1).values(compact_revision=revision))

    # -- writes -------------------------------------------------------------------------

    def current_revisions(self, conn: Connection, keys: Iterable[Key]) -> dict[Key, int]:
        """The current revision of each of `keys` that exists."""
        wanted = [(k.resource, k.namespace, k.name) for k in keys]
        out: dict[Key, int] = {}
        # Row-value IN lists stay well under SQLite's 32766 parameter limit in chunks of 500.
        for start in range(0, len(wanted), 500):
            for r in conn.execute(_CURRENT_REVISIONS, {"keys": wanted[start : start + 500]}):
                out[Key(r[0], r[1], r[2])] = int(r[3])
        return out

    def insert_events(self, conn: Connection, rows: Sequence[NewEvent]) -> None:
        conn.execute(
            _INSERT_EVENTS,
            [
                {
                    "revision": r.revision,
                    "resource": r.key.resource,
                    "namespace": r.key.namespace,
                    "name": r.key.name,
                    "type": int(r.type),
                    "prev_revision": r.prev_revision,
                    "value": r.value,
                }
                for r in rows
            ],
        )

    def delete_objects(self, conn: Connection, keys: Sequence[Key]) -> None:
        conn.execute(_DELETE_OBJECT, [{"r": k.resource, "ns": k.namespace, "n": k.name} for k in keys])

    # -- reads ----------------------------------------------------------------------------

    def get_object(self, conn: Connection, key: Key) -> Row | None:
        r = conn.execute(_GET_OBJECT, {"r": key.resource, "ns": key.namespace, "n": key.name}).first()
        return None if r is None else Row(key.namespace, key.name, int(r[0]), r[1])

    def list_current(
        self, conn: Connection, resource: str, namespace: str | None, after: tuple[str, str] | None, limit: int | None
    ) -> list[Row]:
        """Live objects of one resource in key order, after `after` (exclusive)."""
        conds: list[ColumnElement[bool]] = [objects.c.resource == resource]
        if namespace is not None:
            conds.append(objects.c.namespace == namespace)
        if after is not None:
            conds.append(tuple_(objects.c.namespace, objects.c.name) > tuple_(*after))
        stmt = (
            select(objects.c.namespace, objects.c.name, events.c.revision, events.c.value)
            .select_from(objects.join(events, events.c.revision == objects.c.revision))
            .where(and_(*conds))
            .order_by(objects.c.namespace, objects.c.name)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [Row(r[0], r[1], int(r[2]), r[3]) for r in conn.execute(stmt)]

    def list_at(
        self,
        conn: Connection,
        resource: str,
        namespace: str | None,
        revision: int,
        after: tuple[str, str] | None,
        limit: int | None,
    ) -> list[Row]:
        """Objects of one resource as they were at `revision`: the newest row of each key at or
        before it, unless that row is a deletion. Correct for any revision compaction kept,
        because compaction never removes the newest row at or below its horizon."""
        conds: list[ColumnElement[bool]] = [events.c.resource == resource, events.c.revision <= revision]
        if namespace is not None:
            conds.append(events.c.namespace == namespace)
        if after is not None:
            conds.append(tuple_(events.c.namespace, events.c.name) > tuple_(*after))
        newest = (
            select(func.max(events.c.revision).label("rev"))
            .where(and_(*conds))
            .group_by(events.c.namespace, events.c.name)
            .subquery()
        )
        stmt = (
            select(events.c.namespace, events.c.name, events.c.revision, events.c.value)
            .select_from(events.join(newest, events.c.revision == newest.c.rev))
            .where(events.c.type != int(EventType.DELETED))
            .order_by(events.c.namespace, events.c.name)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [Row(r[0], r[1], int(r[2]), r[3]) for r in conn.execute(stmt)]

    def events_after(
        self, conn: Connection, resource: str | None, namespace: str | None, after: int, limit: int
    ) -> list[Row]:
        """Log rows after revision `after`, oldest first."""
        conds: list[ColumnElement[bool]] = [events.c.revision > after]
        if resource is not None:
            conds.append(events.c.resource == resource)
        if namespace is not None:
            conds.append(events.c.namespace == namespace)
        stmt = (
            select(
                events.c.namespace,
                events.c.name,
                events.c.revision,
                events.c.value,
                events.c.type,
                events.c.prev_revision,
                events.c.resource,
            )
            .where(and_(*conds))
            .order_by(events.c.revision)
            .limit(limit)
        )
        return [
            Row(r[0], r[1], int(r[2]), r[3], EventType(r[4]), None if r[5] is None else int(r[5]), r[6])
            for r in conn.execute(stmt)
        ]

    def values_at(self, conn: Connection, revisions: Sequence[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for start in range(0, len(revisions), 500):
            chunk = list(revisions[start : start + 500])
            stmt = select(events.c.revision, events.c.value).where(events.c.revision.in_(chunk))
            out.update({int(r[0]): r[1] for r in conn.execute(stmt)})
        return out

    # -- compaction -----------------------------------------------------------------------

    def compact(self, conn: Connection, after: int, upto: int) -> int:
        """Drop rows that no revision from `upto` on can see: rows superseded by a change in
        (after, upto], and deletion rows in that range. Returns the number of rows removed."""
        in_range = and_(events.c.revision > after, events.c.revision <= upto)
        superseded = select(events.c.prev_revision).where(and_(in_range, events.c.prev_revision.is_not(None)))
        removed = conn.execute(delete(events).where(events.c.revision.in_(superseded))).rowcount
        removed += conn.execute(delete(events).where(and_(in_range, events.c.type == int(EventType.DELETED)))).rowcount
        return int(removed)

    def count_events(self, conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


__all__ = ["BaseDialect", "NewEvent", "Row", "metadata"]
