"""The alembic migrations: up, down, up again, and no drift from the table definitions."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from edgekube.store import migrating
from edgekube.store.dialects.tables import metadata


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    """Head creates the tables, base removes them, head creates them again."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrating.upgrade(engine)
    assert {"events", "objects", "state"} <= set(inspect(engine).get_table_names())
    migrating.downgrade(engine)
    assert not {"events", "objects", "state"} & set(inspect(engine).get_table_names())
    migrating.upgrade(engine)
    assert {"events", "objects", "state"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_match_migrations(tmp_path: Path) -> None:
    """Autogenerate finds no difference between the migrated schema and the table definitions."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrating.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
