"""Slow start: creates go out in batches 1, 2, 4 ... and stop at the first failing batch."""

from __future__ import annotations

import pytest

from edgekube.controllers.replicasets.batching import slow_start, slow_start_batches


@pytest.mark.parametrize(
    ("count", "batches"),
    [
        (0, []),
        (1, [1]),
        (2, [1, 1]),
        (3, [1, 2]),
        (7, [1, 2, 4]),
        (10, [1, 2, 4, 3]),
        (500, [1, 2, 4, 8, 16, 32, 64, 128, 245]),
    ],
)
def test_batch_sizes(count: int, batches: list[int]) -> None:
    """Each batch doubles the last; the last is cut so the sizes add up to the count."""
    assert slow_start_batches(count) == batches
    assert sum(batches) == count


async def test_all_succeed() -> None:
    """With no failure every call runs and all count as done."""
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1

    assert await slow_start(10, call) == (10, None)
    assert calls == 10


async def test_stops_after_the_first_failing_batch() -> None:
    """Call 3 fails (batch 2): batch 2 finishes, no batch 3 starts; 2 of 3 succeeded."""
    calls = 0
    boom = RuntimeError("quota exceeded")

    async def call() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise boom

    done, error = await slow_start(10, call)
    assert (calls, done, error) == (3, 2, boom)
