"""An aiohttp app serving only the discovery routes, with a stand-in for the error middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from edgekube.api.discovery import Handler, routes
from edgekube.errors import ApiError
from edgekube.resources.registry import default_registry


@web.middleware
async def _status_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The real app's middleware lives elsewhere; this one renders errors the same way.
    try:
        return await handler(request)
    except ApiError as err:
        return web.json_response(err.status(), status=err.code)


def discovery_app() -> web.Application:
    app = web.Application(middlewares=[_status_errors])
    app.add_routes(routes(default_registry(), server_address="127.0.0.1:6443"))
    return app


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(discovery_app())) as test_client:
        yield test_client
