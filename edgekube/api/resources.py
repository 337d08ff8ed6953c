"""HTTP verbs on resource URLs, mapped onto the resource service.

One handler takes every resource URL; it parses the target, negotiates the response,
and dispatches on (method, collection or item, subresource). Domain errors propagate to
the middleware, which renders them as `Status` objects.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from edgekube.api import proxying, tables
from edgekube.api.negotiation import (
    JSON,
    Wanted,
    body_type,
    decode_body,
    dry_run,
    encode,
    negotiate,
    query_bool,
    query_int,
    read_body,
    read_object,
)
from edgekube.api.paths import Target, parse
from edgekube.api.watching import stream
from edgekube.errors import BadRequest, MethodNotAllowed, NotFound
from edgekube.resources.objects import Obj
from edgekube.resources.registry import Registry
from edgekube.service import deleting, subresources
from edgekube.service.listing import ListResult
from edgekube.service.options import DeleteOptions, ListOptions, WatchOptions, WriteOptions
from edgekube.service.resources import ResourceService

_BINDINGS = re.compile(r"/api/v1/namespaces/([^/]+)/bindings")
_BOUND = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


class ResourceHandler:
    def __init__(self, service: ResourceService, registry: Registry, *, gc_running: bool = False) -> None:
        self.service = service
        self.registry = registry
        self.gc_running = gc_running

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        legacy_binding = _BINDINGS.fullmatch(request.path)
        if legacy_binding and request.method == "POST":
            return await self._bindings(request, legacy_binding.group(1))
        target = parse(self.registry, request.path)
        wanted = negotiate(request.headers.get("Accept"))
        method = request.method
        if target.subresource:
            return await self._subresource(request, target, wanted)
        if not target.name:
            if method == "GET":
                if query_bool(request, "watch"):
                    return await self._watch(request, target, wanted)
                return await self._list(request, target, wanted)
            if method == "POST":
                return await self._create(request, target, wanted)
            if method == "DELETE":
                return await self._delete_collection(request, target, wanted)
            raise MethodNotAllowed(f"{method} is not supported on a collection of {target.strategy.kind.resource}")
        if method == "GET":
            item = await self.service.get(target.strategy, target.namespace, target.name)
            if not wanted.as_table and not wanted.as_metadata and wanted.media == JSON:
                return web.Response(body=item.value, content_type=JSON)
            return self._object(item.decode(), wanted, request)
        if method == "PUT":
            opts = self._write_options(request)
            body = await read_object(request)
            obj = await self.service.update(target.strategy, target.namespace, target.name, body, opts)
            return self._object(obj, wanted, request, warnings=opts.warnings)
        if method == "PATCH":
            opts = self._write_options(request)
            raw = await read_body(request)
            obj = await self.service.patch(
                target.strategy, target.namespace, target.name, request.headers.get("Content-Type", ""), raw, opts
            )
            return self._object(obj, wanted, request, warnings=opts.warnings)
        if method == "DELETE":
            result = await deleting.delete(
                self.service,
                target.strategy,
                target.namespace,
                target.name,
                await self._delete_options(request),
                gc_running=self.gc_running,
            )
            return self._object(result.obj, wanted, request, status=200 if result.finished else 202)
        raise MethodNotAllowed(f"{method} is not supported on {target.strategy.kind.resource}")

    # -- collection verbs -----------------------------------------------------------------

    async def _create(self, request: web.Request, target: Target, wanted: Wanted) -> web.Response:
        opts = self._write_options(request)
        body = await read_object(request)
        if target.namespace is None and target.strategy.kind.namespaced:
            plural = target.strategy.kind.plural
            raise MethodNotAllowed(f"create {plural} in a namespace: POST .../namespaces/NAMESPACE/{plural}")
        obj = await self.service.create(target.strategy, target.namespace, body, opts)
        return self._object(obj, wanted, request, status=201, warnings=opts.warnings)

    async def _list(self, request: web.Request, target: Target, wanted: Wanted) -> web.Response:
        q = request.query
        opts = ListOptions(
            label_selector=q.get("labelSelector", ""),
            field_selector=q.get("fieldSelector", ""),
            limit=query_int(request, "limit") or 0,
            continue_token=q.get("continue", ""),
            resource_version=q.get("resourceVersion", ""),
            resource_version_match=q.get("resourceVersionMatch", ""),
        )
        result = await self.service.list(target.strategy, target.namespace, opts)
        kind = target.strategy.kind
        list_meta: dict[str, Any] = {"resourceVersion": str(result.revision)}
        if result.continue_token:
            list_meta["continue"] = result.continue_token
        if wanted.as_table:
            body = tables.table(
                target.strategy,
                self._decoded(result),
                include=tables.include_object(q.get("includeObject")),
                resource_version=str(result.revision),
                continue_token=result.continue_token,
            )
            return self._encoded(body, wanted)
        if wanted.as_metadata:
            body = {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": list_meta,
                "items": [tables.partial_metadata(o) for o in self._decoded(result)],
            }
            return self._encoded(body, wanted)
        if wanted.media == JSON:
            # The hot path: stored JSON is spliced into the list without decoding it.
            head = orjson.dumps({"kind": kind.list_kind, "apiVersion": kind.api_version, "metadata": list_meta})
            parts = [head[:-1], b',"items":[', b",".join(i.value for i in result.items), b"]}"]
            return web.Response(body=b"".join(parts), content_type=JSON)
        body = {
            "kind": kind.list_kind,
            "apiVersion": kind.api_version,
            "metadata": list_meta,
            "items": self._decoded(result),
        }
        return self._encoded(body, wanted)

    async def _watch(self, request: web.Request, target: Target, wanted: Wanted) -> web.StreamResponse:
        q = request.query
        initial = q.get("sendInitialEvents")
        opts = WatchOptions(
            label_selector=q.get("labelSelector", ""),
            field_selector=q.get("fieldSelector", ""),
            resource_version=q.get("resourceVersion", ""),
            allow_bookmarks=query_bool(request, "allowWatchBookmarks"),
            send_initial_events=None if initial is None else query_bool(request, "sendInitialEvents"),
        )
        watch = await self.service.watch(target.strategy, target.namespace, opts)
        return await stream(
            request,
            watch,
            wanted=wanted,
            timeout_seconds=query_int(request, "timeoutSeconds"),
            bookmarks=opts.allow_bookmarks,
            include=tables.include_object(q.get("includeObject")),
        )

    async def _delete_collection(self, request: web.Request, target: Target, wanted: Wanted) -> web.Response:
        q = request.query
        list_opts = ListOptions(label_selector=q.get("labelSelector", ""), field_selector=q.get("fieldSelector", ""))
        deleted = await deleting.delete_collection(
            self.service,
            target.strategy,
            target.namespace,
            list_opts,
            await self._delete_options(request),
            gc_running=self.gc_running,
        )
        kind = target.strategy.kind
        body = {
            "kind": kind.list_kind,
            "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": str(self.service.store.revision)},
            "items": deleted,
        }
        return self._encoded(body, wanted)

    # -- subresources ---------------------------------------------------------------------

    async def _subresource(self, request: web.Request, target: Target, wanted: Wanted) -> web.StreamResponse:
        kind, sub, method = target.strategy.kind, target.subresource, request.method
        s, ns, name = target.strategy, target.namespace, target.name
        if sub in proxying.POD_STREAMS and (kind.group, kind.kind) == ("", "Pod") and ns is not None:
            return await proxying.serve(request, ns, name, sub)
        if sub == "status" and kind.has_status:
            if method == "GET":
                return self._object((await self.service.read(s, ns, name))[0], wanted, request)
            opts = self._write_options(request)
            if method == "PUT":
                body = await read_object(request)
                obj = await self.service.update(s, ns, name, body, opts, subresource="status")
            elif method == "PATCH":
                obj = await self.service.patch(
                    s,
                    ns,
                    name,
                    request.headers.get("Content-Type", ""),
                    await read_body(request),
                    opts,
                    subresource="status",
                )
            else:
                raise MethodNotAllowed(f"{method} is not supported on {kind.plural}/status")
            return self._object(obj, wanted, request, warnings=opts.warnings)
        if sub == "scale" and kind.has_scale:
            if method == "GET":
                return self._object(subresources.scale_of((await self.service.read(s, ns, name))[0]), wanted, request)
            opts = self._write_options(request)
            if method == "PUT":
                body = await read_object(request)
                scale = await subresources.update_scale(self.service, s, ns, name, body, opts)
            elif method == "PATCH":
                scale = await subresources.patch_scale(
                    self.service, s, ns, name, request.headers.get("Content-Type", ""), await read_body(request), opts
                )
            else:
                raise MethodNotAllowed(f"{method} is not supported on {kind.plural}/scale")
            return self._object(scale, wanted, request)
        if sub == "binding" and (kind.group, kind.kind) == ("", "Pod"):
            if method != "POST":
                raise MethodNotAllowed("only POST is supported on pods/binding")
            body = await read_object(request)
            await subresources.bind(self.service, s, ns, name, body, self._write_options(request))
            return self._encoded(_BOUND, wanted, status=201)
        raise NotFound(f"the server could not find the requested resource: {kind.plural}/{sub} is not served")

    async def _bindings(self, request: web.Request, namespace: str) -> web.Response:
        """POST /api/v1/namespaces/NS/bindings: the older spelling of pods/NAME/binding."""
        body = await read_object(request)
        name = (body.get("metadata") or {}).get("name") if isinstance(body, dict) else None
        if not name:
            raise BadRequest("a Binding needs metadata.name: the name of the pod to bind")
        pods = self.registry.by_kind("", "v1", "Pod")
        assert pods is not None
        await subresources.bind(self.service, pods, namespace, str(name), body, self._write_options(request))
        return self._encoded(_BOUND, Wanted(), status=201)

    # -- helpers --------------------------------------------------------------------------

    def _write_options(self, request: web.Request) -> WriteOptions:
        return WriteOptions(
            dry_run=dry_run(request),
            field_validation=request.query.get("fieldValidation", "Warn") or "Warn",
            field_manager=request.query.get("fieldManager", ""),
        )

    async def _delete_options(self, request: web.Request) -> DeleteOptions:
        body: Any = {}
        raw = await read_body(request)
        if raw.strip():
            body = decode_body(raw, body_type(request))
            if not isinstance(body, dict):
                raise BadRequest("the DeleteOptions body must be an object")
        q = request.query
        pre = body.get("preconditions") or {}
        policy = q.get("propagationPolicy") or body.get("propagationPolicy")
        if policy is None and body.get("orphanDependents") is not None:
            policy = "Orphan" if body["orphanDependents"] else "Background"
        grace = query_int(request, "gracePeriodSeconds")
        if grace is None and body.get("gracePeriodSeconds") is not None:
            grace = int(body["gracePeriodSeconds"])
        return DeleteOptions(
            grace_period_seconds=grace,
            propagation_policy=policy,
            precondition_uid=pre.get("uid"),
            precondition_resource_version=pre.get("resourceVersion"),
            dry_run=dry_run(request) or "All" in (body.get("dryRun") or []),
        )

    def _decoded(self, result: ListResult) -> list[Obj]:
        return result.decoded if result.decoded is not None else [i.decode() for i in result.items]

    def _object(
        self, obj: Obj, wanted: Wanted, request: web.Request, *, status: int = 200, warnings: list[str] | None = None
    ) -> web.Response:
        target = parse(self.registry, request.path)
        if wanted.as_table and obj.get("kind") != "Scale":
            body: Any = tables.table(
                target.strategy, [obj], include=tables.include_object(request.query.get("includeObject"))
            )
        elif wanted.as_metadata:
            body = tables.partial_metadata(obj)
        else:
            body = obj
        return self._encoded(body, wanted, status=status, warnings=warnings)

    @staticmethod
    def _encoded(body: Any, wanted: Wanted, *, status: int = 200, warnings: list[str] | None = None) -> web.Response:
        data, content_type = encode(body, wanted)
        response = web.Response(body=data, status=status, content_type=content_type)
        for w in warnings or ():
            response.headers.add("Warning", '299 - "' + w.replace('"', '\\"') + '"')
        return response
