"""The store's rules: revisions, preconditions, lists now and in the past, watches, compaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edgekube.store.errors import Compacted, KeyExists, KeyNotFound, RevisionMismatch
from edgekube.store.store import Store
from edgekube.store.types import EventType, Key
from tests.unit.store.conftest import open_store

PODS = "core/pods"


def key(name: str, ns: str = "default") -> Key:
    return Key(PODS, ns, name)


def obj(name: str, **extra: object) -> dict[str, object]:
    return {"metadata": {"name": name}, **extra}


async def test_every_write_takes_the_next_revision(store: Store) -> None:
    """Creates, updates and deletes get consecutive revisions, stamped as resourceVersion."""
    a = await store.create(key("a"), obj("a"))
    b = await store.update(key("a"), obj("a", x=1), expected_revision=a.revision, prev_obj=None)
    c = await store.delete(key("a"), obj("a", x=1), expected_revision=b.revision)
    assert [a.revision, b.revision, c.revision] == [1, 2, 3]
    assert [a.type, b.type, c.type] == [EventType.ADDED, EventType.MODIFIED, EventType.DELETED]
    assert b'"resourceVersion":"2"' in b.value
    assert await store.get(key("a")) is None


async def test_preconditions(store: Store) -> None:
    """Duplicate create, missing update and stale revision are refused and change nothing."""
    first = await store.create(key("a"), obj("a"))
    with pytest.raises(KeyExists):
        await store.create(key("a"), obj("a"))
    with pytest.raises(KeyNotFound):
        await store.update(key("b"), obj("b"), expected_revision=None, prev_obj=None)
    await store.update(key("a"), obj("a", v=2), expected_revision=first.revision, prev_obj=None)
    with pytest.raises(RevisionMismatch):
        await store.update(key("a"), obj("a", v=3), expected_revision=first.revision, prev_obj=None)
    with pytest.raises(RevisionMismatch):
        await store.delete(key("a"), obj("a"), expected_revision=first.revision)
    current = await store.get(key("a"))
    assert current is not None and current.decode()["v"] == 2


async def test_same_key_twice_in_one_batch(store: Store) -> None:
    """Concurrent writes to one key in one group commit apply in order; stale ones conflict."""
    created = await store.create(key("a"), obj("a"))
    results = await asyncio.gather(
        *(store.update(key("a"), obj("a", n=i), expected_revision=created.revision, prev_obj=None) for i in range(10)),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, Exception)]
    assert len(wins) == 1
    assert all(isinstance(r, RevisionMismatch) for r in results if isinstance(r, Exception))
    blind = await asyncio.gather(
        *(store.update(key("a"), obj("a", n=i), expected_revision=None, prev_obj=None) for i in range(10))
    )
    revisions = [e.revision for e in blind]
    assert revisions == sorted(revisions) and len(set(revisions)) == 10
    assert [e.prev_revision for e in blind[1:]] == revisions[:-1]


async def test_list_pages_in_key_order(store: Store) -> None:
    """Lists come in (namespace, name) order; `after` and `limit` page through them."""
    for ns, name in [("b", "x"), ("a", "z"), ("a", "y"), ("c", "w")]:
        await store.create(key(name, ns), obj(name))
    page = await store.list(PODS, None, limit=3)
    assert [(i.key.namespace, i.key.name) for i in page.items] == [("a", "y"), ("a", "z"), ("b", "x")]
    assert page.more and page.revision == 4
    rest = await store.list(PODS, None, after=("b", "x"), limit=3)
    assert [i.key.name for i in rest.items] == ["w"] and not rest.more
    only_a = await store.list(PODS, "a")
    assert [i.key.name for i in only_a.items] == ["y", "z"]


async def test_list_at_an_older_revision(store: Store) -> None:
    """A list at revision R shows objects exactly as they were at R."""
    await store.create(key("a"), obj("a", v=1))
    b = await store.create(key("b"), obj("b", v=1))
    at = b.revision
    await store.update(key("a"), obj("a", v=2), expected_revision=None, prev_obj=None)
    await store.delete(key("b"), obj("b"), expected_revision=None)
    await store.create(key("c"), obj("c"))
    old = await store.list(PODS, None, revision=at)
    assert [(i.key.name, i.decode()["v"]) for i in old.items] == [("a", 1), ("b", 1)]
    now = await store.list(PODS, None)
    assert [i.key.name for i in now.items] == ["a", "c"]


async def test_watch_replays_then_follows(store: Store) -> None:
    """A watch from revision R gets every later event once, in order, then live ones."""
    for i in range(5):
        await store.create(key(f"p{i}"), obj(f"p{i}"))
    stream = store.watch(PODS, None, 2)
    await store.create(key("late"), obj("late"))
    seen = []
    for _ in range(4):
        event = await stream.next(1)
        assert event is not None
        seen.append((event.revision, event.key.name))
    assert seen == [(3, "p2"), (4, "p3"), (5, "p4"), (6, "late")]
    assert await stream.next(0.05) is None
    stream.close()


async def test_watch_replays_from_disk(tmp_path: Path) -> None:
    """When memory no longer holds the start revision, the watch reads the log from disk."""
    store = await open_store(tmp_path / "s.db", history=3)
    try:
        for i in range(10):
            await store.create(key(f"p{i}"), obj(f"p{i}"))
        other = await store.create(Key("core/configmaps", "default", "c"), obj("c"))
        stream = store.watch(PODS, "default", 1)
        names = []
        while (event := await stream.next(0.2)) is not None:
            names.append(event.key.name)
        assert names == [f"p{i}" for i in range(1, 10)]
        assert other.revision == 11
        stream.close()
    finally:
        await store.close()


async def test_watch_reports_previous_object_for_selectors(tmp_path: Path) -> None:
    """Replayed MODIFIED events carry the object before the change (for selector transitions)."""
    store = await open_store(tmp_path / "s.db", history=1)
    try:
        await store.create(key("a"), obj("a", v=1))
        await store.update(key("a"), obj("a", v=2), expected_revision=None, prev_obj=None)
        await store.create(key("b"), obj("b"))
        stream = store.watch(PODS, None, 1, want_prev=True)
        event = await stream.next(1)
        assert event is not None and event.type is EventType.MODIFIED
        assert event.prev_obj is not None and event.prev_obj["v"] == 1
        stream.close()
    finally:
        await store.close()


async def test_compaction(store: Store) -> None:
    """After compaction, older revisions answer Compacted; the horizon itself still lists right."""
    await store.create(key("a"), obj("a", v=1))
    await store.create(key("b"), obj("b"))
    for v in range(2, 6):
        await store.update(key("a"), obj("a", v=v), expected_revision=None, prev_obj=None)
    await store.delete(key("b"), obj("b"), expected_revision=None)
    horizon = store.revision - 1
    removed = await store.compact(horizon, slice_size=2)
    assert removed > 0
    with pytest.raises(Compacted):
        store.watch(PODS, None, horizon - 1)
    with pytest.raises(Compacted):
        await store.list(PODS, None, revision=horizon - 1)
    at = await store.list(PODS, None, revision=horizon)
    # `b` was deleted one revision after the horizon, so at the horizon it still exists.
    assert [(i.key.name, i.decode().get("v")) for i in at.items] == [("a", 5), ("b", None)]
    assert (await store.get(key("a"))) is not None
    stream = store.watch(PODS, None, horizon)
    event = await stream.next(1)
    assert event is not None and event.type is EventType.DELETED
    stream.close()


async def test_state_survives_reopen(tmp_path: Path) -> None:
    """Objects, revisions and the compaction horizon survive closing and reopening."""
    path = tmp_path / "s.db"
    store = await open_store(path)
    for i in range(3):
        await store.create(key(f"p{i}"), obj(f"p{i}"))
    await store.compact(2)
    await store.close()
    again = await open_store(path)
    try:
        assert again.revision == 3 and again.compact_revision == 2
        item = await again.get(key("p2"))
        assert item is not None and item.revision == 3
        nxt = await again.create(key("p3"), obj("p3"))
        assert nxt.revision == 4
    finally:
        await again.close()
