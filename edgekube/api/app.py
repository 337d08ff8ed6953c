"""The aiohttp application: middleware, then routes, most specific first."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from edgekube.api import discovery, health, openapi, proxying
from edgekube.api.middleware import authentication, errors
from edgekube.api.negotiation import MAX_BODY
from edgekube.api.resources import ResourceHandler
from edgekube.api.watching import WATCHES, close_watches
from edgekube.resources.openapi.documents import OpenAPIDocuments
from edgekube.resources.registry import Registry
from edgekube.security.tokens import TokenAuthenticator
from edgekube.service.resources import ResourceService

RESOURCE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def build_app(
    *,
    service: ResourceService,
    registry: Registry,
    documents: OpenAPIDocuments,
    authenticator: TokenAuthenticator,
    ready: Callable[[], bool],
    server_address: str = "",
    gc_running: bool = False,
    streaming_token: str = "",
) -> web.Application:
    # The body limit is enforced (and answered with a Status) by read_body; aiohttp's own
    # check would answer in plain text, so it is set just above ours.
    app = web.Application(middlewares=[errors, authentication(authenticator)], client_max_size=MAX_BODY + 1024)
    app[WATCHES] = set()
    app.on_shutdown.append(close_watches)
    app.add_routes(health.routes(ready))
    app.add_routes(discovery.routes(registry, server_address=server_address))
    app.add_routes(openapi.routes(documents))
    proxying.install(app, service=service, registry=registry, token=streaming_token)
    handler = ResourceHandler(service, registry, gc_running=gc_running)
    for prefix in ("/api/{tail:.+}", "/apis/{tail:.+}"):
        for method in RESOURCE_METHODS:
            app.router.add_route(method, prefix, handler)
    return app
