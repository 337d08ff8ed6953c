"""The /openapi/v3 HTTP handlers: bodies, caching headers, gzip and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from edgekube.api.openapi import routes
from edgekube.errors import ApiError
from edgekube.resources.openapi.documents import OpenAPIDocuments

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Client = TestClient[web.Request, web.Application]


@web.middleware
async def status_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stands in for the app's middleware that turns domain errors into Status bodies."""
    try:
        return await handler(request)
    except ApiError as err:
        return web.json_response(err.status(), status=err.code)


@pytest.fixture
async def client(documents: OpenAPIDocuments) -> AsyncIterator[Client]:
    app = web.Application(middlewares=[status_errors])
    app.add_routes(routes(documents))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_index(client: Client, documents: OpenAPIDocuments) -> None:
    """GET /openapi/v3 returns the index as JSON."""
    resp = await client.get("/openapi/v3")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.read() == documents.index()


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_document(
    client: Client, documents: OpenAPIDocuments, encoding: str
) -> None:
    """A group-version document is served gzipped to clients that accept it, plain otherwise."""
    resp = await client.get("/openapi/v3/apis/apps/v1", headers={"Accept-Encoding": encoding})
    assert resp.status == 200
    assert resp.headers.get("Content-Encoding") == ("gzip" if encoding == "gzip" else None)
    assert await resp.read() == documents.document("apis/apps/v1")
    assert resp.headers["ETag"] == f'"{documents.hash("apis/apps/v1")}"'
    assert "no-cache" in resp.headers["Cache-Control"]


async def test_current_hash_is_cacheable(
    client: Client, documents: OpenAPIDocuments
) -> None:
    """The URL from the index may be cached for good."""
    resp = await client.get(f"/openapi/v3/api/v1?hash={documents.hash('api/v1')}")
    assert resp.status == 200
    assert "immutable" in resp.headers["Cache-Control"]


async def test_stale_hash_redirects(
    client: Client, documents: OpenAPIDocuments
) -> None:
    """A stale hash is redirected to the current URL."""
    resp = await client.get("/openapi/v3/api/v1?hash=OLD", allow_redirects=False)
    assert resp.status == 301
    assert resp.headers["Location"] == f"/openapi/v3/api/v1?hash={documents.hash('api/v1')}"


async def test_not_modified(
    client: Client, documents: OpenAPIDocuments
) -> None:
    """A matching If-None-Match gets 304 without a body."""
    etag = f'"{documents.hash("api/v1")}"'
    resp = await client.get("/openapi/v3/api/v1", headers={"If-None-Match": etag})
    assert resp.status == 304


@pytest.mark.parametrize("path", ["/openapi/v3/apis/batch/v1", "/openapi/v3/nope", "/openapi/v2"])
async def test_unknown_is_a_not_found_status(
    client: Client, path: str
) -> None:
    """Unknown group-versions and /openapi/v2 are 404 Status responses."""
    resp = await client.get(path)
    assert resp.status == 404
    body = orjson.loads(await resp.read())
    assert (body["kind"], body["reason"]) == ("Status", "NotFound")
