"""SharedWatches: one list+watch per resource, fanned out; a subscription lasts as long as its task."""

from __future__ import annotations

import asyncio
from typing import Any

from agent.watches import SharedWatches
from edgekube.client import SERVICES

Obj = dict[str, Any]


class NeverAnswers:
    """A client whose list never returns: the watcher's task just waits."""

    async def list_all(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()


def fan_out(watches: SharedWatches, kind: str, obj: Obj) -> None:
    watches._fan_out(f"{SERVICES.group}/{SERVICES.plural}", kind, obj)


async def test_one_watcher_per_resource_and_every_subscriber_called() -> None:
    """Two subscribers share one ListWatcher and both see each event."""
    watches = SharedWatches(NeverAnswers())  # type: ignore[arg-type]
    seen: list[str] = []
    first = watches.watch(SERVICES, lambda kind, obj: seen.append(f"a:{kind}"))
    second = watches.watch(SERVICES, lambda kind, obj: seen.append(f"b:{kind}"))
    fan_out(watches, "ADDED", {})
    assert first is second
    assert seen == ["a:ADDED", "b:ADDED"]
    await watches.stop()


async def test_a_subscription_ends_with_the_task_that_made_it() -> None:
    """A part that ends (and is restarted) does not leave its old handler behind."""
    watches = SharedWatches(NeverAnswers())  # type: ignore[arg-type]
    seen: list[str] = []

    async def part(tag: str) -> None:
        watches.watch(SERVICES, lambda kind, obj: seen.append(tag))

    await asyncio.get_running_loop().create_task(part("old"))
    await asyncio.sleep(0)  # done callbacks run on the next turn of the loop
    await asyncio.get_running_loop().create_task(part("new"))
    await asyncio.sleep(0)
    watches.watch(SERVICES, lambda kind, obj: seen.append("kept"))  # this test's task goes on
    fan_out(watches, "MODIFIED", {})
    assert seen == ["kept"]
    await watches.stop()
