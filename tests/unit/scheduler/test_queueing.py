"""The scheduling queue: priority order, backoff, parking until an event that can help."""

from __future__ import annotations

import asyncio

import pytest

from edgekube.scheduler.queueing import SchedulingQueue, ShutDown

FIT = frozenset({"NodeResourcesFit"})
TAINTS = frozenset({"TaintToleration"})


async def test_priority_then_arrival() -> None:
    """Higher spec.priority first; equal priorities in arrival order."""
    q = SchedulingQueue()
    for key, priority in (("a", 0), ("b", 10), ("c", 0), ("d", 10)):
        q.add(key, priority)
    assert [(await q.pop()).key for _ in range(4)] == ["b", "d", "a", "c"]


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)])
def test_backoff_doubles_to_ten_seconds(attempts: int, seconds: float) -> None:
    """1s after the first failed attempt, doubling, capped at 10s."""
    assert SchedulingQueue().backoff_seconds(attempts) == seconds


async def test_failed_pod_comes_back_after_backoff() -> None:
    """An error sends the pod to backoff, then to active."""
    q = SchedulingQueue(initial_backoff=0.02)
    q.add("a")
    q.failed(await q.pop())
    assert (q.active_count, q.backoff_count) == (0, 1)
    again = await asyncio.wait_for(q.pop(), 1)
    assert (again.key, again.attempts) == ("a", 2)


async def test_parked_until_a_relevant_event() -> None:
    """An unschedulable pod waits for an event its rejecting plugins care about."""
    q = SchedulingQueue(initial_backoff=0.0)
    q.add("short-of-memory")
    q.add("tainted-out")
    first, second = await q.pop(), await q.pop()
    q.unschedulable(first, FIT)
    q.unschedulable(second, TAINTS)
    assert q.unschedulable_count == 2
    assert q.move(frozenset({"NodePorts", "NodeResourcesFit"})) == 1
    assert (await q.pop()).key == "short-of-memory"
    assert q.move() == 1  # None: any change (a node was added)
    assert (await q.pop()).key == "tainted-out"


async def test_event_during_the_attempt_is_not_lost() -> None:
    """An event that arrives while the pod is being scheduled sends it to backoff, not to the parking lot."""
    q = SchedulingQueue(initial_backoff=0.02)
    q.add("a")
    popped = await q.pop()
    q.move()  # e.g. a node was added while the decision ran
    q.unschedulable(popped, FIT)
    assert (q.unschedulable_count, q.backoff_count) == (0, 1)
    assert (await asyncio.wait_for(q.pop(), 1)).key == "a"


async def test_released_pod_still_waits_out_its_backoff() -> None:
    """A pod woken right after failing goes to backoff for the rest of its wait."""
    q = SchedulingQueue(initial_backoff=0.05)
    q.add("a")
    q.unschedulable(await q.pop(), FIT)
    q.move(FIT)
    assert (q.active_count, q.backoff_count) == (0, 1)
    assert (await asyncio.wait_for(q.pop(), 1)).key == "a"


async def test_stale_parked_pods_are_retried() -> None:
    """A pod parked longer than max_unschedulable_seconds is retried even without an event."""
    now = [100.0]
    q = SchedulingQueue(initial_backoff=0.0, max_unschedulable_seconds=300, clock=lambda: now[0])
    q.add("a")
    q.unschedulable(await q.pop(), FIT)
    now[0] += 299
    assert q.flush_stale() == 0
    now[0] += 2
    assert q.flush_stale() == 1
    assert (await q.pop()).key == "a"


async def test_update_wakes_a_parked_pod_and_delete_forgets() -> None:
    """A changed pending pod is retried; a deleted one leaves every list."""
    q = SchedulingQueue(initial_backoff=0.0)
    q.add("a")
    q.unschedulable(await q.pop(), TAINTS)
    q.update("a")
    assert q.active_count == 1
    q.delete("a")
    assert len(q) == 0 and "a" not in q


async def test_close_ends_pop() -> None:
    """A closed queue ends the loop waiting on it."""
    q = SchedulingQueue()
    waiter = asyncio.create_task(q.pop())
    await asyncio.sleep(0)
    q.close()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(waiter, 1)
