"""One list+watch per resource for the whole agent, fanned out to every part that follows it.

Service NAT, cluster DNS, routes and NetworkPolicy all follow Services, EndpointSlices,
Nodes and so on; each resource is listed and watched once (`edgekube.client.ListWatcher`)
and its events go to every subscriber. Subscribers get `(type, obj)` on the loop that
applies the change and must not block or await (put a key on a queue; no work in handlers).
The caches are read-only to subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog

from edgekube.client import ApiClient, ListWatcher, Resource

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
Handler = Callable[[str, Obj], None]


class SharedWatches:
    """`watch(resource)` returns the one ListWatcher of that resource, started on first use."""

    def __init__(self, client: ApiClient) -> None:
        self._client = client
        self._watchers: dict[str, ListWatcher] = {}
        self._handlers: dict[str, list[Handler]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def watch(self, resource: Resource, handler: Handler | None = None) -> ListWatcher:
        """The shared cache of `resource` (all namespaces); `handler` is called for each change
        until the task that subscribed it ends (a restarted part subscribes afresh)."""
        key = f"{resource.group}/{resource.plural}"
        handlers = self._handlers.setdefault(key, [])
        if handler is not None:
            handlers.append(handler)
            task = asyncio.current_task()
            if task is not None:
                task.add_done_callback(lambda _: self._unsubscribe(key, handler))
        watcher = self._watchers.get(key)
        if watcher is None:
            watcher = ListWatcher(self._client, resource, on_event=lambda kind, obj: self._fan_out(key, kind, obj))
            self._watchers[key] = watcher
            self._tasks[key] = asyncio.get_running_loop().create_task(watcher.run(), name=f"watch {resource.plural}")
        return watcher

    def _unsubscribe(self, key: str, handler: Handler) -> None:
        handlers = self._handlers.get(key)
        if handlers is not None and handler in handlers:
            handlers.remove(handler)

    def _fan_out(self, key: str, kind: str, obj: Obj) -> None:
        for handler in self._handlers.get(key, ()):
            try:
                handler(kind, obj)
            except Exception:  # one subscriber's bug must not starve the others
                log.exception("watch subscriber failed", resource=key, event=kind)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._watchers.clear()
        self._handlers.clear()
