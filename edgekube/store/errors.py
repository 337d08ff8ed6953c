"""Errors of the store layer. The resource service maps them to API errors."""

from __future__ import annotations

from edgekube.store.types import Key


class StoreError(Exception):
    """Base of the store's own errors."""


class KeyExists(StoreError):
    def __init__(self, key: Key) -> None:
        super().__init__(f"{key} already exists")
        self.key = key


class KeyNotFound(StoreError):
    def __init__(self, key: Key) -> None:
        super().__init__(f"{key} not found")
        self.key = key


class RevisionMismatch(StoreError):
    """An update or delete named a revision that is no longer the object's current one."""

    def __init__(self, key: Key, expected: int, actual: int) -> None:
        super().__init__(f"{key}: expected revision {expected}, found {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class Compacted(StoreError):
    """A revision older than what compaction kept."""

    def __init__(self, revision: int, compact_revision: int) -> None:
        super().__init__(f"revision {revision} is compacted (oldest kept: {compact_revision})")
        self.revision = revision
        self.compact_revision = compact_revision


class StoreClosed(StoreError):
    """The store is shutting down; the write was not attempted."""
