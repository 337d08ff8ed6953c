"""The resource service: create, read, list, watch, update and patch any served kind.

Every write runs the same steps, in this order, whoever calls:
  identity checks (kind, namespace, name against the URL)
  -> schema check (unknown fields: Strict fails, Warn warns; both are dropped; wrong types fail)
  -> strategy prepare (reset what the caller may not set) -> defaults -> validation
  -> admission (namespace lifecycle, and whatever plug-ins are registered)
  -> store, with the revision read as precondition (409 when someone wrote in between).
Updates that would change nothing write nothing and return the stored object.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
import structlog

from edgekube.errors import (
    ApiError,
    BadRequest,
    Cause,
    Forbidden,
    already_exists,
    conflict,
    invalid,
    not_found,
)
from edgekube.resources.objects import Obj
from edgekube.resources.openapi.checking import check_fields
from edgekube.resources.patching import apply_patch
from edgekube.resources.registry import Registry
from edgekube.resources.schema import Definition, SchemaSet
from edgekube.resources.strategy import Strategy
from edgekube.service import metadata as meta
from edgekube.service.listing import ListResult, Selection, list_objects, parse_revision, selection
from edgekube.service.namespaces import NamespaceCache
from edgekube.service.options import ListOptions, WatchOptions, WriteOptions
from edgekube.service.watching import ClientWatch
from edgekube.store.errors import KeyExists, KeyNotFound, RevisionMismatch
from edgekube.store.store import Store
from edgekube.store.types import Key, StoredObject

log = structlog.get_logger(__name__)

CONFLICT_RETRIES = 5  # Kubernetes retries unconditional updates and patches this often too


class Admission(Protocol):
    """A check or mutation run on every write after validation (quota, default tolerations...).

    `old` is None on create. Raise an ApiError to refuse the write.
    """

    async def __call__(self, operation: str, strategy: Strategy, obj: Obj, old: Obj | None) -> None: ...


Mutation = Callable[[Obj], Awaitable[Obj] | Obj]


class ResourceService:
    def __init__(self, store: Store, registry: Registry, schema: SchemaSet | None) -> None:
        self.store = store
        self.registry = registry
        self.schema = schema
        self.admission: builtins.list[Admission] = []
        self.namespaces = NamespaceCache(store)
        self._definitions: dict[str, Definition | None] = {}

    # -- helpers --------------------------------------------------------------------------

    def key(self, strategy: Strategy, namespace: str | None, name: str) -> Key:
        return Key(strategy.kind.store_key, namespace or "" if strategy.kind.namespaced else "", name)

    def definition(self, strategy: Strategy) -> Definition | None:
        k = strategy.kind
        if k.store_key not in self._definitions:
            found = self.schema.for_kind(k.group, k.version, k.kind) if self.schema else None
            self._definitions[k.store_key] = found
        return self._definitions[k.store_key]

    @staticmethod
    def decode(item: StoredObject) -> Obj:
        return item.decode()

    async def read(self, strategy: Strategy, namespace: str | None, name: str) -> tuple[Obj, int]:
        """The stored object and its revision, or 404."""
        item = await self.store.get(self.key(strategy, namespace, name))
        if item is None:
            raise not_found(strategy.kind.plural, name, strategy.kind.group)
        return item.decode(), item.revision

    async def get(self, strategy: Strategy, namespace: str | None, name: str) -> StoredObject:
        item = await self.store.get(self.key(strategy, namespace, name))
        if item is None:
            raise not_found(strategy.kind.plural, name, strategy.kind.group)
        return item

    # -- create ---------------------------------------------------------------------------

    async def create(self, strategy: Strategy, namespace: str | None, body: Any, opts: WriteOptions) -> Obj:
        obj = self._identity(strategy, namespace, body, name=None)
        self._check_schema(strategy, obj, opts)
        meta.set_for_create(obj, tracks_generation=strategy.tracks_generation)
        strategy.prepare_for_create(obj)
        strategy.default(obj)
        generate = not obj["metadata"].get("name") and bool(obj["metadata"].get("generateName"))
        if generate:
            obj["metadata"]["name"] = meta.generated_name(str(obj["metadata"]["generateName"]))
        name = str(obj["metadata"].get("name") or "")
        self._raise_invalid(strategy, name, strategy.validate(obj))
        await self._admit_namespace(strategy, obj)
        for plugin in self.admission:
            await plugin("CREATE", strategy, obj, None)
        if opts.dry_run:
            return obj
        for _attempt in range(3 if generate else 1):
            try:
                await self.store.create(self.key(strategy, namespace, name), obj)
                return obj
            except KeyExists as err:
                if not generate:
                    raise already_exists(strategy.kind.plural, name, strategy.kind.group) from err
                name = meta.generated_name(str(obj["metadata"]["generateName"]))
                obj["metadata"]["name"] = name
        raise already_exists(strategy.kind.plural, name, strategy.kind.group)

    # -- list and watch -------------------------------------------------------------------

    async def list(self, strategy: Strategy, namespace: str | None, opts: ListOptions) -> ListResult:
        sel = selection(strategy, namespace, opts.label_selector, opts.field_selector)
        if opts.limit < 0:
            raise BadRequest("limit must not be negative")
        return await list_objects(
            self.store,
            strategy,
            sel,
            limit=opts.limit,
            continue_token=opts.continue_token,
            resource_version=opts.resource_version,
            resource_version_match=opts.resource_version_match,
            decode=self.decode,
        )

    async def watch(self, strategy: Strategy, namespace: str | None, opts: WatchOptions) -> ClientWatch:
        """A watch from `opts.resource_version`; with none (or "0"), the current state first."""
        sel = selection(strategy, namespace, opts.label_selector, opts.field_selector)
        rv = opts.resource_version
        initial_state = opts.send_initial_events if opts.send_initial_events is not None else rv in ("", "0")
        if not initial_state:
            start = parse_revision(rv) if rv not in ("", "0") else self.store.revision
            return self._open_watch(strategy, sel, start, None, False)
        page = await self.list(strategy, sel.namespace, ListOptions())
        return self._open_watch(
            strategy, sel, page.revision, page.items, bool(opts.send_initial_events and opts.allow_bookmarks)
        )

    def _open_watch(
        self,
        strategy: Strategy,
        sel: Selection,
        start: int,
        initial: builtins.list[StoredObject] | None,
        end_mark: bool,
    ) -> ClientWatch:
        from edgekube.errors import Gone
        from edgekube.store.errors import Compacted

        try:
            return ClientWatch(self.store, strategy, sel, start, initial, initial_end_bookmark=end_mark)
        except Compacted as err:
            raise Gone(f"too old resource version: {err.revision} ({err.compact_revision})") from err

    # -- update and patch -----------------------------------------------------------------

    async def update(
        self,
        strategy: Strategy,
        namespace: str | None,
        name: str,
        body: Any,
        opts: WriteOptions,
        *,
        subresource: str = "",
    ) -> Obj:
        """PUT: replace the object (or its status). A resourceVersion in the body is a precondition."""
        new_base = self._identity(strategy, namespace, body, name=name)
        self._check_schema(strategy, new_base, opts)
        wanted = new_base.get("metadata", {}).get("resourceVersion")
        precondition = parse_revision(str(wanted), "metadata.resourceVersion") if wanted else None

        async def mutate(_current: Obj) -> Obj:
            return copy.deepcopy(new_base)

        return await self.guaranteed_update(
            strategy, namespace, name, mutate, opts, subresource=subresource, precondition=precondition
        )

    async def patch(
        self,
        strategy: Strategy,
        namespace: str | None,
        name: str,
        content_type: str,
        body: bytes,
        opts: WriteOptions,
        *,
        subresource: str = "",
    ) -> Obj:
        definition = self.definition(strategy)
        precondition: builtins.list[int | None] = [None]

        async def mutate(current: Obj) -> Obj:
            patched = apply_patch(content_type, current, body, schema=self.schema, definition=definition)
            if not isinstance(patched, dict):
                raise BadRequest("the patch must leave an object")
            rv = (patched.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current.get("metadata", {}).get("resourceVersion"):
                # A resourceVersion the patch sets on purpose is a precondition (as in Kubernetes).
                precondition[0] = parse_revision(str(rv), "metadata.resourceVersion")
            self._identity(strategy, namespace, patched, name=name)
            self._check_schema(strategy, patched, opts)
            return patched

        return await self.guaranteed_update(
            strategy, namespace, name, mutate, opts, subresource=subresource, precondition_ref=precondition
        )

    async def guaranteed_update(
        self,
        strategy: Strategy,
        namespace: str | None,
        name: str,
        mutate: Callable[[Obj], Awaitable[Obj]],
        opts: WriteOptions,
        *,
        subresource: str = "",
        precondition: int | None = None,
        precondition_ref: builtins.list[int | None] | None = None,
    ) -> Obj:
        """Read, mutate, validate and write; on a concurrent write, read again and retry.

        With a precondition (a resourceVersion the caller named) a concurrent write is a 409.
        """
        for _attempt in range(CONFLICT_RETRIES):
            old, revision = await self.read(strategy, namespace, name)
            if precondition is not None and precondition != revision:
                raise conflict(strategy.kind.plural, name, strategy.kind.group)
            new = await mutate(copy.deepcopy(old))
            pinned = precondition if precondition is not None else (precondition_ref[0] if precondition_ref else None)
            if pinned is not None and pinned != revision:
                raise conflict(strategy.kind.plural, name, strategy.kind.group)
            new = self._prepare_update(strategy, new, old, subresource)
            if meta.same_object(new, old):
                return old
            for plugin in self.admission:
                await plugin("UPDATE", strategy, new, old)
            if opts.dry_run:
                return new
            try:
                return await self._write_update(strategy, namespace, name, new, old, revision)
            except RevisionMismatch as err:
                if pinned is not None:
                    raise conflict(strategy.kind.plural, name, strategy.kind.group) from err
                continue
        raise conflict(strategy.kind.plural, name, strategy.kind.group, "too many concurrent writes; try again")

    def _prepare_update(self, strategy: Strategy, new: Obj, old: Obj, subresource: str) -> Obj:
        meta.carry_over(new, old)
        resource_version = old.get("metadata", {}).get("resourceVersion")
        if subresource == "status":
            new["metadata"] = copy.deepcopy(old.get("metadata", {}))
            strategy.prepare_for_status_update(new, old)
            causes = strategy.validate_status_update(new, old)
        elif subresource == "binding":
            causes = []  # the binding verb itself decided what changes: nodeName and one condition
        else:
            strategy.prepare_for_update(new, old)
            strategy.default(new)
            causes = strategy.validate_update(new, old)
            if strategy.tracks_generation:
                meta.bump_generation(new, old)
        new.setdefault("metadata", {})["resourceVersion"] = resource_version
        self._raise_invalid(strategy, str(new.get("metadata", {}).get("name") or ""), causes)
        return new

    async def _write_update(
        self, strategy: Strategy, namespace: str | None, name: str, new: Obj, old: Obj, revision: int
    ) -> Obj:
        key = self.key(strategy, namespace, name)
        new_meta = new.get("metadata", {})
        if new_meta.get("deletionTimestamp") and not new_meta.get("finalizers") and not _spec_finalizers(strategy, new):
            # The last finalizer of an object being deleted is gone: the deletion completes.
            try:
                await self.store.delete(key, new, expected_revision=revision)
            except KeyNotFound as err:
                raise not_found(strategy.kind.plural, name, strategy.kind.group) from err
            return new
        try:
            await self.store.update(key, new, expected_revision=revision, prev_obj=old)
        except KeyNotFound as err:
            raise not_found(strategy.kind.plural, name, strategy.kind.group) from err
        return new

    # -- checks ---------------------------------------------------------------------------

    def _identity(self, strategy: Strategy, namespace: str | None, body: Any, *, name: str | None) -> Obj:
        """The body as an object of this kind, in this namespace (and with this name)."""
        kind = strategy.kind
        if not isinstance(body, dict):
            raise BadRequest(f"the body must be a {kind.kind} object, not {type(body).__name__}")
        api_version, body_kind = body.get("apiVersion"), body.get("kind")
        if api_version is not None and api_version != kind.api_version:
            raise BadRequest(
                f"the API version in the data ({api_version}) does not match "
                f"the expected API version ({kind.api_version})"
            )
        if body_kind is not None and body_kind != kind.kind:
            raise BadRequest(f"the kind in the data ({body_kind}) does not match the expected kind ({kind.kind})")
        body["apiVersion"], body["kind"] = kind.api_version, kind.kind
        md = body.get("metadata")
        if md is None:
            md = body["metadata"] = {}
        if not isinstance(md, dict):
            raise BadRequest("metadata must be an object")
        if kind.namespaced:
            given = md.get("namespace")
            if given and namespace and given != namespace:
                raise BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            if namespace:
                md["namespace"] = namespace
        else:
            md.pop("namespace", None)
        if name is not None:
            given_name = md.get("name")
            if given_name and given_name != name:
                raise BadRequest(f"the name of the object ({given_name}) does not match the name on the URL ({name})")
            md["name"] = name
        return body

    def _check_schema(self, strategy: Strategy, obj: Obj, opts: WriteOptions) -> None:
        definition = self.definition(strategy)
        if definition is None or self.schema is None:
            return
        found = check_fields(self.schema, definition, obj, prune=True)
        if found.unknown and opts.field_validation != "Ignore":
            if opts.field_validation == "Strict":
                listed = ", ".join(f'unknown field "{p.lstrip(".")}"' for p in found.unknown)
                raise BadRequest(f"strict decoding error: {listed}")
            opts.warnings.extend(f'unknown field "{p.lstrip(".")}"' for p in found.unknown)
        if found.causes:
            name = str((obj.get("metadata") or {}).get("name") or "")
            self._raise_invalid(strategy, name, found.causes)

    @staticmethod
    def _raise_invalid(strategy: Strategy, name: str, causes: builtins.list[Cause]) -> None:
        if causes:
            raise invalid(strategy.kind.kind, name, causes, strategy.kind.group)

    async def _admit_namespace(self, strategy: Strategy, obj: Obj) -> None:
        """Objects may only be created in a namespace that exists and is not being deleted."""
        if not strategy.kind.namespaced:
            return
        ns_name = obj["metadata"].get("namespace") or ""
        state = await self.namespaces.state(ns_name)
        if state is None:
            raise not_found("namespaces", ns_name)
        if state:
            raise Forbidden(
                f'{strategy.kind.plural} "{obj["metadata"].get("name") or obj["metadata"].get("generateName")}" '
                f"is forbidden: unable to create new content in namespace {ns_name} because it is being terminated"
            )


def _spec_finalizers(strategy: Strategy, obj: Obj) -> Any:
    """A Namespace also waits for `spec.finalizers` (the namespace controller's `kubernetes`)."""
    if (strategy.kind.group, strategy.kind.kind) != ("", "Namespace"):
        return None
    return (obj.get("spec") or {}).get("finalizers")


def dumps(obj: Obj) -> bytes:
    return orjson.dumps(obj)


__all__ = ["Admission", "ApiError", "ResourceService"]
