"""Informers: an in-memory copy of one kind, kept current by list-then-watch, with indexes.

An informer lists its kind once, then follows the watch from the list's revision, and
re-lists whenever the watch breaks (410 after compaction, or a lagging watcher). Handlers
run on every change and must only enqueue keys; readers use `get`, `list` and the indexes.
Cached objects are shared: never mutate them (copy first).
"""

from __future__ import annotations

import asyncio
import builtins
import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from edgekube.errors import Gone
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service.options import ListOptions, WatchOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

IndexFunc = Callable[[Obj], Iterable[str]]


def object_key(obj: Obj) -> str:
    """`namespace/name`, or `name` for cluster-scoped objects: the key queues carry."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace") or ""
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


def split_key(key: str) -> tuple[str, str]:
    ns, _, name = key.rpartition("/")
    return ns, name


@dataclass
class Handlers:
    on_add: Callable[[Obj], None] | None = None
    on_update: Callable[[Obj, Obj], None] | None = None
    on_delete: Callable[[Obj], None] | None = None


@dataclass
class Informer:
    service: ResourceService
    strategy: Strategy
    handlers: list[Handlers] = field(default_factory=list)
    indexers: dict[str, IndexFunc] = field(default_factory=dict)
    resync_seconds: float = 0.0  # >0: call on_update(obj, obj) for everything this often

    def __post_init__(self) -> None:
        self._cache: dict[str, Obj] = {}
        self._indexes: dict[str, dict[str, set[str]]] = {name: {} for name in self.indexers}
        self.synced = asyncio.Event()
        self.revision = 0

    # -- reading --------------------------------------------------------------------------

    def get(self, key: str) -> Obj | None:
        return self._cache.get(key)

    def get_copy(self, key: str) -> Obj | None:
        obj = self._cache.get(key)
        return None if obj is None else copy.deepcopy(obj)

    def list(self, namespace: str | None = None) -> list[Obj]:
        if namespace is None:
            return list(self._cache.values())
        return (
            self.by_index("namespace", namespace)
            if "namespace" in self.indexers
            else [o for o in self._cache.values() if (o.get("metadata") or {}).get("namespace") == namespace]
        )

    def by_index(self, index: str, value: str) -> builtins.list[Obj]:
        keys = self._indexes[index].get(value, set())
        return [self._cache[k] for k in keys if k in self._cache]

    def keys(self) -> builtins.list[str]:
        return list(self._cache)

    # -- subscribing ----------------------------------------------------------------------

    def add_handlers(self, handlers: Handlers) -> None:
        self.handlers.append(handlers)
        for obj in self._cache.values():  # a late subscriber sees the current state as adds
            if handlers.on_add:
                handlers.on_add(obj)

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        """Add an index; controllers sharing this informer may ask for the same one twice."""
        if name in self.indexers:
            return
        self.indexers[name] = func
        index: dict[str, set[str]] = {}
        for key, obj in self._cache.items():
            for value in func(obj):
                index.setdefault(value, set()).add(key)
        self._indexes[name] = index

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """List, then watch; on a broken watch, list again. Runs until cancelled."""
        kind = self.strategy.kind.resource
        while True:
            try:
                await self._list_and_watch()
            except Gone:
                log.info("informer re-listing", kind=kind)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # never let one bad event kill the informer
                log.error("informer failed; re-listing", kind=kind, error=repr(err))
                await asyncio.sleep(1.0)

    async def _list_and_watch(self) -> None:
        page = await self.service.list(self.strategy, None, ListOptions())
        fresh = {object_key(o): o for o in (page.decoded or [i.decode() for i in page.items])}
        self._replace(fresh)
        self.revision = page.revision
        self.synced.set()
        watch = await self.service.watch(self.strategy, None, WatchOptions(resource_version=str(page.revision)))
        loop = asyncio.get_running_loop()
        next_resync = loop.time() + self.resync_seconds if self.resync_seconds else None
        try:
            while True:
                wait = None if next_resync is None else max(0.0, next_resync - loop.time())
                event = await watch.next(wait)
                if event is None:
                    if next_resync is not None and loop.time() >= next_resync:
                        self._resync()
                        next_resync = loop.time() + self.resync_seconds
                    continue
                self.revision = event.revision
                obj = event.decoded()
                if event.type == "DELETED":
                    self._delete(object_key(obj), obj)
                elif event.type in ("ADDED", "MODIFIED"):
                    self._upsert(object_key(obj), obj)
        finally:
            watch.close()

    def _replace(self, fresh: dict[str, Obj]) -> None:
        """Swap in a new list: deletes for what vanished, adds/updates for the rest."""
        for key in [k for k in self._cache if k not in fresh]:
            self._delete(key, self._cache[key])
        for key, obj in fresh.items():
            self._upsert(key, obj)

    def _upsert(self, key: str, obj: Obj) -> None:
        old = self._cache.get(key)
        if old is not None and old.get("metadata", {}).get("resourceVersion") == obj.get("metadata", {}).get(
            "resourceVersion"
        ):
            return
        self._unindex(key, old)
        self._cache[key] = obj
        self._index(key, obj)
        for h in self.handlers:
            if old is None:
                if h.on_add:
                    self._call(h.on_add, obj)
            elif h.on_update:
                self._call(h.on_update, old, obj)

    def _delete(self, key: str, obj: Obj) -> None:
        old = self._cache.pop(key, None)
        self._unindex(key, old)
        for h in self.handlers:
            if h.on_delete:
                self._call(h.on_delete, old if old is not None else obj)

    def _resync(self) -> None:
        for obj in list(self._cache.values()):
            for h in self.handlers:
                if h.on_update:
                    self._call(h.on_update, obj, obj)

    def _index(self, key: str, obj: Obj) -> None:
        for name, func in self.indexers.items():
            for value in func(obj):
                self._indexes[name].setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: Obj | None) -> None:
        if obj is None:
            return
        for name, func in self.indexers.items():
            for value in func(obj):
                bucket = self._indexes[name].get(value)
                if bucket is not None:
                    bucket.discard(key)
                    if not bucket:
                        del self._indexes[name][value]

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as err:  # a handler bug must not stop the informer
            log.error("informer handler failed", kind=self.strategy.kind.resource, error=repr(err))


def by_namespace(obj: Obj) -> list[str]:
    return [str((obj.get("metadata") or {}).get("namespace") or "")]


def by_owner_uid(obj: Obj) -> list[str]:
    return [str(r.get("uid")) for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if r.get("uid")]


def by_node_name(obj: Obj) -> list[str]:
    node = (obj.get("spec") or {}).get("nodeName")
    return [str(node)] if node else []


class InformerFactory:
    """One shared informer per kind, so controllers watching the same kind share a cache."""

    def __init__(self, service: ResourceService) -> None:
        self.service = service
        self._informers: dict[str, Informer] = {}

    def informer(self, group: str, version: str, kind: str) -> Informer:
        strategy = self.service.registry.by_kind(group, version, kind)
        if strategy is None:
            raise KeyError(f"{group}/{version} {kind} is not served")
        key = strategy.kind.store_key
        if key not in self._informers:
            self._informers[key] = Informer(self.service, strategy, indexers={"namespace": by_namespace})
        return self._informers[key]

    def all(self) -> list[Informer]:
        return list(self._informers.values())

    async def wait_synced(self) -> None:
        await asyncio.gather(*(i.synced.wait() for i in self._informers.values()))
