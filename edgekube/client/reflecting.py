"""`ListWatcher`: a local copy of one resource's objects, kept current by list + watch.

`run()` lists (in pages, one snapshot), then watches from the list's revision and applies
each event to `cache`. When the watch answers Gone (its revision was compacted) it lists
again and reports the difference as events, so a consumer that missed changes still ends
up level with the server. While the server is unreachable the cache stays as it was (an
agent keeps working from it) and `run()` retries with a growing delay, resuming the watch
where it stopped when it can.

`on_event(type, obj)` is called for every change, from the loop that applies it. It must
not block or await: put a key on a queue and return (an event handler does no work).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import structlog

from edgekube.client.errors import ServerUnreachable
from edgekube.client.resources import Resource
from edgekube.errors import ApiError, Gone

if TYPE_CHECKING:
    from edgekube.client.api import ApiClient

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
EventHandler = Callable[[str, Obj], None]

FIRST_RETRY = 0.5  # seconds before retrying after a failure; doubles up to MAX_RETRY
MAX_RETRY = 30.0


def key_of(obj: Obj) -> str:
    """`namespace/name`, or `name` for a cluster-scoped object (the cache and queue key)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name', '')}" if ns else str(meta.get("name", ""))


class ListWatcher:
    """A cache of one resource's selected objects. Start `run()` as a task; await `wait_synced()`."""

    def __init__(
        self,
        client: ApiClient,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        on_event: EventHandler | None = None,
        page_size: int = 500,
        watch_timeout_seconds: int | None = None,
    ) -> None:
        self._client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self._on_event = on_event
        self._page_size = page_size
        self._watch_timeout = watch_timeout_seconds
        self.cache: dict[str, Obj] = {}
        """Objects by `key_of`; read it, never change it (copy an object before editing)."""
        self.resource_version = ""
        """The revision the cache reflects."""
        self.synced = asyncio.Event()
        """Set once the first list has filled the cache."""
        self.relists = 0
        """Lists done after the first (because of Gone or other errors), for tests and metrics."""
        self._log = log.bind(resource=resource.plural, namespace=namespace or "")

    def __len__(self) -> int:
        return len(self.cache)

    def __iter__(self) -> Iterator[Obj]:
        return iter(list(self.cache.values()))

    def get(self, key: str) -> Obj | None:
        return self.cache.get(key)

    async def wait_synced(self) -> None:
        """Return once the first list is in the cache (wrap in `asyncio.timeout` to bound it)."""
        await self.synced.wait()

    async def run(self) -> None:
        """List, then watch, until cancelled."""
        must_list = True
        delay = FIRST_RETRY
        while True:
            try:
                if must_list:
                    await self._list()
                    must_list = False
                await self._watch()
                delay = FIRST_RETRY
            except Gone as err:
                self._log.info("watch expired; listing again", reason=err.message)
                must_list = True
            except ServerUnreachable as err:
                # Keep the cache and the revision: the watch may resume where it stopped.
                self._log.debug("server unreachable", error=str(err), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(MAX_RETRY, delay * 2)
            except ApiError as err:
                self._log.warning("list or watch failed", error=err.message, code=err.code, retry_in=delay)
                must_list = True
                await asyncio.sleep(delay)
                delay = min(MAX_RETRY, delay * 2)

    async def _list(self) -> None:
        found = await self._client.list_all(
            self.resource,
            self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            page_size=self._page_size,
        )
        fresh = {key_of(obj): obj for obj in found.items}
        old, self.cache = self.cache, fresh
        self.resource_version = found.resource_version
        if self.synced.is_set():
            self.relists += 1
        # Tell the consumer what changed while nobody was watching.
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None:
                self._emit("ADDED", obj)
            elif _revision(before) != _revision(obj):
                self._emit("MODIFIED", obj)
        for key, obj in old.items():
            if key not in fresh:
                self._emit("DELETED", obj)
        self.synced.set()

    async def _watch(self) -> None:
        async with self._client.watch(
            self.resource,
            self.namespace,
            resource_version=self.resource_version,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            timeout_seconds=self._watch_timeout,
            bookmarks=True,
        ) as events:
            async for kind, obj in events:
                self.resource_version = events.resource_version
                key = key_of(obj)
                if kind == "DELETED":
                    self.cache.pop(key, None)
                else:
                    self.cache[key] = obj
                self._emit(kind, obj)
            self.resource_version = events.resource_version

    def _emit(self, kind: str, obj: Obj) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, obj)
        except Exception:  # a consumer's bug must not stop the cache from following the server
            self._log.exception("event handler failed", event=kind, key=key_of(obj))


def _revision(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))
