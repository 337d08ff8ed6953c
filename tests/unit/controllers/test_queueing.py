"""The work queue: dedupe, one worker per key, re-add while processing, backoff."""

from __future__ import annotations

import asyncio

from edgekube.controllers.queueing import WorkQueue


async def test_dedupes_queued_keys() -> None:
    """Adding a queued key again does not queue it twice."""
    q = WorkQueue("t")
    for key in ("a", "b", "a", "a"):
        q.add(key)
    assert len(q) == 2
    assert [await q.get(), await q.get()] == ["a", "b"]


async def test_key_added_while_processing_comes_back_after_done() -> None:
    """A key is never handed to two workers; an add during processing is kept for later."""
    q = WorkQueue("t")
    q.add("a")
    key = await q.get()
    q.add("a")
    assert len(q) == 0
    q.done(key)
    assert len(q) == 1 and await q.get() == "a"


async def test_rate_limited_backoff_doubles_and_forget_resets() -> None:
    """Each failure doubles the delay; forget starts over."""
    q = WorkQueue("t", base_delay=0.01, max_delay=0.04)
    delays = [q.add_rate_limited("a") for _ in range(4)]
    assert delays == [0.01, 0.02, 0.04, 0.04]
    q.forget("a")
    assert q.add_rate_limited("a") == 0.01
    assert await asyncio.wait_for(q.get(), 1) == "a"


async def test_add_after_keeps_the_earliest() -> None:
    """Two delayed adds of one key fire once, at the earlier time."""
    q = WorkQueue("t")
    q.add_after("a", 0.05)
    q.add_after("a", 5)
    assert await asyncio.wait_for(q.get(), 1) == "a"
