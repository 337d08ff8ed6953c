"""The tables, shared by every dialect and by the alembic migrations.

events   - the log: one row per committed change, keyed by revision. Current objects'
           rows are kept forever; superseded rows only until compaction passes them.
objects  - the index of live objects: key -> revision of its current `events` row.
           The value is stored once, in `events`; reading an object is one join.
state    - one row: the last revision handed out and the compaction horizon.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
)

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("revision", BigInteger, primary_key=True, autoincrement=False),
    Column("resource", String(128), nullable=False),
    Column("namespace", String(253), nullable=False),
    Column("name", String(253), nullable=False),
    Column("type", SmallInteger, nullable=False),
    Column("prev_revision", BigInteger, nullable=True),
    Column("value", LargeBinary, nullable=False),
    # Lists at an older revision and watch replays scan one resource in key order.
    Index("events_by_key", "resource", "namespace", "name", "revision"),
    Index("events_by_resource", "resource", "revision"),
)

objects = Table(
    "objects",
    metadata,
    Column("resource", String(128), primary_key=True),
    Column("namespace", String(253), primary_key=True),
    Column("name", String(253), primary_key=True),
    Column("revision", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

state = Table(
    "state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("current_revision", BigInteger, nullable=False),
    Column("compact_revision", BigInteger, nullable=False),
)
