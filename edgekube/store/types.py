"""Values that flow between the store's layers and out to the resource service."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import orjson


@dataclass(frozen=True, slots=True, order=True)
class Key:
    """Where an object lives: its resource (`apps/deployments`), namespace ('' if none), name."""

    resource: str
    namespace: str
    name: str


class EventType(IntEnum):
    ADDED = 1
    MODIFIED = 2
    DELETED = 3


@dataclass(slots=True)
class StoredObject:
    """One object as stored: its revision and its JSON (with resourceVersion inside)."""

    key: Key
    revision: int
    value: bytes

    def decode(self) -> dict[str, Any]:
        result: dict[str, Any] = orjson.loads(self.value)
        return result


@dataclass(slots=True)
class Event:
    """One committed change, as watchers receive it.

    `obj` and `prev_obj` are shared by every watcher: readers must never mutate them.
    `prev_obj` is the object before the change (None for ADDED, or when unknown after a
    replay from disk whose previous row was compacted); watchers with selectors use it to
    turn a MODIFIED that leaves or enters the selection into DELETED or ADDED.
    """

    revision: int
    type: EventType
    key: Key
    value: bytes
    obj: dict[str, Any] | None = None
    prev_obj: dict[str, Any] | None = None
    prev_revision: int | None = None

    def decoded(self) -> dict[str, Any]:
        if self.obj is None:
            self.obj = orjson.loads(self.value)
        return self.obj


@dataclass(slots=True)
class ListPage:
    """A page of a list: the objects, the revision the page was read at, and whether more follow."""

    items: list[StoredObject] = field(default_factory=list)
    revision: int = 0
    more: bool = False
