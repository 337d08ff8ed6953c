"""Lists: selectors, `limit`/`continue` pagination and resourceVersion semantics.

A continue token pins the revision of the first page, so every later page is read as of
that revision and the whole list is one consistent snapshot, as in Kubernetes. Once
compaction passes that revision the token answers 410 Gone.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from edgekube.errors import BadRequest, Gone, Timeout
from edgekube.resources.objects import Obj
from edgekube.resources.selectors import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from edgekube.resources.strategy import Strategy
from edgekube.store.errors import Compacted
from edgekube.store.store import Store
from edgekube.store.types import Key, StoredObject

CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)
PAGE_READ = 500  # rows read per store round trip while filtering


@dataclass
class Selection:
    """Which objects a list or watch wants."""

    labels: LabelSelector
    fields: FieldSelector
    namespace: str | None

    @property
    def everything(self) -> bool:
        return self.labels.empty and not self.fields.fields

    def matches(self, strategy: Strategy, obj: Obj) -> bool:
        if not self.labels.empty and not self.labels.matches((obj.get("metadata") or {}).get("labels") or {}):
            return False
        if self.fields.fields and not self.fields.matches(strategy.field_values(obj)):
            return False
        return True


def selection(strategy: Strategy, namespace: str | None, label_selector: str, field_selector: str) -> Selection:
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector)
    supported = set(strategy.field_values({"metadata": {}}))
    for name in sorted(fields.fields):
        if name not in supported:
            raise BadRequest(
                f"field label not supported: {name} (supported for {strategy.kind.resource}: "
                f"{', '.join(sorted(supported))})"
            )
    pinned_ns = fields.exact("metadata.namespace")
    if strategy.kind.namespaced and namespace is None and pinned_ns is not None:
        namespace = pinned_ns
    return Selection(labels, fields, namespace)


@dataclass
class ListResult:
    items: list[StoredObject] = field(default_factory=list)
    # Decoded objects, when a selector needed them (same order as items); else None.
    decoded: list[Obj] | None = None
    revision: int = 0
    continue_token: str = ""


def encode_continue(revision: int, namespace: str, name: str) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": [namespace, name]})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        start = data["start"]
        return int(data["rv"]), (str(start[0]), str(start[1]))
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise BadRequest(f"continue key is not valid: {err}") from err


def parse_revision(text: str, what: str = "resourceVersion") -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise BadRequest(f'{what} "{text}" is not a valid revision (expected a number)') from err
    if value < 0:
        raise BadRequest(f"{what} must not be negative")
    return value


async def list_objects(
    store: Store,
    strategy: Strategy,
    sel: Selection,
    *,
    limit: int,
    continue_token: str,
    resource_version: str,
    resource_version_match: str,
    decode: Callable[[StoredObject], Obj],
) -> ListResult:
    resource = strategy.kind.store_key
    revision: int | None = None
    after: tuple[str, str] | None = None
    if continue_token:
        if resource_version not in ("", "0"):
            raise BadRequest("specifying resource version is not allowed when using continue")
        revision, after = decode_continue(continue_token)
    elif resource_version_match == "Exact":
        revision = parse_revision(resource_version)
    elif resource_version_match not in ("", "NotOlderThan"):
        raise BadRequest(f"resourceVersionMatch must be Exact or NotOlderThan, not {resource_version_match!r}")
    elif resource_version not in ("", "0"):
        wanted = parse_revision(resource_version)
        if wanted > store.revision:
            raise Timeout(f"Too large resource version: {wanted}, current: {store.revision}")

    name = sel.fields.exact("metadata.name")
    result = ListResult(decoded=None if sel.everything else [])
    try:
        if name is not None and sel.namespace is not None and revision is None:
            return await _single(store, strategy, sel, name, decode, result)
        while True:
            # Unfiltered lists read exactly what is asked; filtered ones read in pages.
            fetch = PAGE_READ if not sel.everything else (limit - len(result.items) if limit else None)
            page = await store.list(resource, sel.namespace, after=after, limit=fetch, revision=revision)
            # Later pages read at the first page's revision: one consistent snapshot.
            revision = page.revision if revision is None else revision
            result.revision = revision
            left_in_page = False
            for index, item in enumerate(page.items):
                after = (item.key.namespace, item.key.name)
                if result.decoded is not None:
                    obj = decode(item)
                    if not sel.matches(strategy, obj):
                        continue
                    result.decoded.append(obj)
                result.items.append(item)
                if limit and len(result.items) >= limit:
                    left_in_page = index < len(page.items) - 1
                    break
            if limit and len(result.items) >= limit:
                if (left_in_page or page.more) and after is not None:
                    result.continue_token = encode_continue(revision, *after)
                return result
            if not page.more:
                return result
    except Compacted as err:
        if continue_token:
            raise Gone(CONTINUE_EXPIRED) from err
        raise Gone(f"too old resource version: {err.revision} ({err.compact_revision})") from err


async def _single(
    store: Store,
    strategy: Strategy,
    sel: Selection,
    name: str,
    decode: Callable[[StoredObject], Obj],
    result: ListResult,
) -> ListResult:
    assert sel.namespace is not None
    item = await store.get(Key(strategy.kind.store_key, sel.namespace, name))
    result.revision = store.revision if item is None else max(store.revision, item.revision)
    if item is None:
        return result
    if result.decoded is not None:
        obj = decode(item)
        if not sel.matches(strategy, obj):
            return result
        result.decoded.append(obj)
    result.items.append(item)
    return result
