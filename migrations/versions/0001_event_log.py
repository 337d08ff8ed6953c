"""The event log, the index of live objects, and the revision counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("revision", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("resource", sa.String(128), nullable=False),
        sa.Column("namespace", sa.String(253), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("prev_revision", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )
    op.create_index("events_by_key", "events", ["resource", "namespace", "name", "revision"])
    op.create_index("events_by_resource", "events", ["resource", "revision"])
    op.create_table(
        "objects",
        sa.Column("resource", sa.String(128), primary_key=True),
        sa.Column("namespace", sa.String(253), primary_key=True),
        sa.Column("name", sa.String(253), primary_key=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("current_revision", sa.BigInteger(), nullable=False),
        sa.Column("compact_revision", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("state")
    op.drop_table("objects")
    op.drop_index("events_by_resource", table_name="events")
    op.drop_index("events_by_key", table_name="events")
    op.drop_table("events")
