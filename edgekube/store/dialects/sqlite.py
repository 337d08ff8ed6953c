"""SQLite: the embedded default. WAL so readers never block the writer; synchronous=FULL so
a commit is on disk before the API answers (principle 4: durable means fsynced).

pysqlite opens transactions lazily and never for SELECTs, which would let the two
statements of one list see different snapshots; so autocommit is turned off at the driver
and every transaction starts with an explicit BEGIN (IMMEDIATE for the writer, so it takes
the write lock at once instead of failing half-way).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import QueuePool

from edgekube.store.dialects.base import BaseDialect, NewEvent
from edgekube.store.dialects.tables import objects

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=OFF",
    # 4 MiB of page cache per connection (SQLite's default is 2): the index pages of a
    # small fleet fit, and ten connections stay cheap on a 1 GB device.
    "PRAGMA cache_size=-4096",
    "PRAGMA temp_store=MEMORY",
)


_insert_objects = sqlite_insert(objects)
_UPSERT_OBJECTS = _insert_objects.on_conflict_do_update(
    index_elements=[objects.c.resource, objects.c.namespace, objects.c.name],
    set_={"revision": _insert_objects.excluded.revision},
)


class SQLiteDialect(BaseDialect):
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def url(self) -> str:
        return f"sqlite+pysqlite:///{self.path}"

    def create_engine(self) -> Engine:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            poolclass=QueuePool,
            pool_size=6,
            max_overflow=4,
            # Reuse the most recent connection first: its cache is warm, and idle ones stay small.
            pool_use_lifo=True,
            connect_args={"check_same_thread": False, "timeout": 10},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            for pragma in PRAGMAS:
                cur.execute(pragma)
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    def begin_write(self, conn: Connection) -> None:
        conn.execution_options(sqlite_begin="IMMEDIATE")

    def begin_read(self, conn: Connection) -> None:
        conn.execution_options(sqlite_begin="DEFERRED")

    def upsert_objects(self, conn: Connection, rows: Sequence[NewEvent]) -> None:
        conn.execute(
            _UPSERT_OBJECTS,
            [
                {"resource": r.key.resource, "namespace": r.key.namespace, "name": r.key.name, "revision": r.revision}
                for r in rows
            ],
        )

    def integrity_check(self, conn: Connection) -> str:
        return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar_one())
