"""An in-process store on a fresh SQLite file, schema applied by the real migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgekube.store import migrating
from edgekube.store.dialects.sqlite import SQLiteDialect
from edgekube.store.store import Store


async def open_store(path: Path, **kwargs: int) -> Store:
    store = Store(SQLiteDialect(path), **kwargs)
    migrating.upgrade(store.engine)
    await store.open()
    return store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(tmp_path / "state.db")
    yield s
    await s.close()
