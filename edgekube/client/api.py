"""`ApiClient`: the verbs of the Kubernetes API over one keep-alive HTTPS session.

Requests carry the bearer token and JSON bodies; answers are plain dicts (the wire
shape). Every call but a watch has a total timeout. Error answers are raised as
`edgekube.errors` classes and missing answers as `ServerUnreachable` (see `errors`).
The connection pool is bounded: each open watch holds one connection of it for as long
as it runs, so size `connections` for the watches plus the concurrent calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any

import aiohttp
import orjson

from edgekube.client.errors import RequestTimedOut, ServerUnreachable, error_from_response
from edgekube.client.kubeconfigs import Config
from edgekube.client.resources import Resource
from edgekube.client.watching import Watch

Obj = dict[str, Any]
JSON = "application/json"
PatchBody = dict[str, Any] | list[Any]
DEFAULT_TIMEOUT = 30.0  # seconds for one call, connecting included
DEFAULT_CONNECTIONS = 32
KEEPALIVE = 15.0  # below the server's idle limit, so the client closes idle sockets first


class PatchType(StrEnum):
    """The patch formats the server takes, by their Content-Type."""

    MERGE = "application/merge-patch+json"
    JSON = "application/json-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"


@dataclass
class ObjectList:
    """One answer to a list: the items, the revision they were read at, and the next page's token."""

    items: list[Obj] = field(default_factory=list)
    resource_version: str = ""
    continue_token: str = ""


class ApiClient:
    """Async API client. Use as `async with ApiClient(config) as api:` or call `close()`."""

    def __init__(
        self,
        config: Config,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connections: int = DEFAULT_CONNECTIONS,
        user_agent: str = "edgekube-client",
    ) -> None:
        self.config = config
        self.timeout = timeout
        self._connections = connections
        self._headers = {"Accept": JSON, "User-Agent": user_agent}
        if config.token:
            self._headers["Authorization"] = f"Bearer {config.token}"
        self._ssl = config.ssl_context()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def session(self) -> aiohttp.ClientSession:
        """The shared session, made on first use (it needs a running event loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self._ssl, limit=self._connections, keepalive_timeout=KEEPALIVE, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(connector=connector, headers=self._headers, json_serialize=_dumps)
        return self._session

    def url(self, path: str) -> str:
        return self.config.server + path

    # -- the one request path -------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
        time_limit: float | None = None,
    ) -> Obj:
        """Send one request and return the decoded answer; raise on an error answer or none."""
        data = None if body is None else orjson.dumps(body)
        headers = {"Content-Type": content_type} if data is not None else None
        limit = aiohttp.ClientTimeout(total=time_limit or self.timeout)
        # A GET on a pooled socket the server just closed is safe to send once more.
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            try:
                async with self.session().request(
                    method, self.url(path), params=params, data=data, headers=headers, timeout=limit
                ) as response:
                    status, raw = response.status, await response.read()
                break
            except aiohttp.ServerDisconnectedError as err:
                if attempt + 1 < attempts:
                    continue
                raise ServerUnreachable(f"{method} {path}: the server closed the connection") from err
            except TimeoutError as err:
                raise RequestTimedOut(f"{method} {path}: no answer within {limit.total}s") from err
            except aiohttp.ClientError as err:
                raise ServerUnreachable(f"{method} {path}: {err}") from err
        if status >= 400:
            raise error_from_response(status, raw)
        decoded: Obj = orjson.loads(raw) if raw else {}
        return decoded

    # -- verbs ------------------------------------------------------------------------------------

    async def get(self, resource: Resource, name: str, namespace: str | None = None) -> Obj:
        return await self.request("GET", resource.path(namespace, name))

    async def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> ObjectList:
        """One page (or, without `limit`, all) of the objects the selectors pick."""
        params = _selectors(label_selector, field_selector)
        if limit:
            params["limit"] = str(limit)
        if continue_token:
            params["continue"] = continue_token
        if resource_version:
            params["resourceVersion"] = resource_version
        body = await self.request("GET", resource.path(namespace), params=params)
        meta = body.get("metadata") or {}
        return ObjectList(
            items=list(body.get("items") or []),
            resource_version=str(meta.get("resourceVersion", "")),
            continue_token=str(meta.get("continue", "")),
        )

    async def list_all(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        page_size: int = 500,
    ) -> ObjectList:
        """Every selected object, read in pages that together are one consistent snapshot."""
        out = ObjectList()
        token = ""
        while True:
            page = await self.list(
                resource,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=page_size,
                continue_token=token,
            )
            out.items.extend(page.items)
            out.resource_version = out.resource_version or page.resource_version
            token = page.continue_token
            if not token:
                return out

    async def create(self, resource: Resource, body: Obj, namespace: str | None = None) -> Obj:
        return await self.request("POST", resource.path(_namespace(body, namespace)), body=body)

    async def update(self, resource: Resource, body: Obj, namespace: str | None = None) -> Obj:
        """PUT the whole object; a `metadata.resourceVersion` in it makes a stale write fail with Conflict."""
        return await self.request("PUT", resource.path(_namespace(body, namespace), _name(body)), body=body)

    async def update_status(self, resource: Resource, body: Obj, namespace: str | None = None) -> Obj:
        """PUT the object's `status` subresource (only `status` of `body` is taken)."""
        path = resource.path(_namespace(body, namespace), _name(body), "status")
        return await self.request("PUT", path, body=body)

    async def patch(
        self,
        resource: Resource,
        name: str,
        patch: PatchBody,
        namespace: str | None = None,
        *,
        patch_type: PatchType = PatchType.MERGE,
        subresource: str = "",
    ) -> Obj:
        path = resource.path(namespace, name, subresource)
        return await self.request("PATCH", path, body=patch, content_type=patch_type.value)

    async def patch_status(
        self,
        resource: Resource,
        name: str,
        patch: PatchBody,
        namespace: str | None = None,
        *,
        patch_type: PatchType = PatchType.MERGE,
    ) -> Obj:
        return await self.patch(resource, name, patch, namespace, patch_type=patch_type, subresource="status")

    async def delete(
        self,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
        propagation_policy: str | None = None,
    ) -> Obj:
        """Delete (or, with a grace period or finalizers, start deleting) one object.

        `uid` and `resource_version` are preconditions: the delete fails with Conflict
        when the stored object is another one or has changed since.
        """
        options: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        pre = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v is not None}
        if pre:
            options["preconditions"] = pre
        return await self.request("DELETE", resource.path(namespace, name), body=options)

    async def bind(self, namespace: str, pod: str, node: str, *, uid: str | None = None) -> None:
        """POST pods/NAME/binding: assign the pod to `node` (what a scheduler does)."""
        from edgekube.client.resources import PODS

        meta: Obj = {"name": pod}
        if uid:
            meta["uid"] = uid
        body = {"apiVersion": "v1", "kind": "Binding", "metadata": meta, "target": {"kind": "Node", "name": node}}
        await self.request("POST", PODS.path(namespace, pod, "binding"), body=body)

    def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int | None = None,
        bookmarks: bool = True,
        yield_bookmarks: bool = False,
    ) -> Watch:
        """Events as `(type, object)`, resumed after each stream end; see `watching.Watch`."""
        params = _selectors(label_selector, field_selector)
        return Watch(
            self,
            resource.path(namespace),
            params,
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            bookmarks=bookmarks,
            yield_bookmarks=yield_bookmarks,
        )


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _selectors(label_selector: str, field_selector: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return params


def _name(body: Obj) -> str:
    name = (body.get("metadata") or {}).get("name")
    if not name:
        raise ValueError("the object needs metadata.name")
    return str(name)


def _namespace(body: Obj, namespace: str | None) -> str | None:
    return namespace or (body.get("metadata") or {}).get("namespace")
