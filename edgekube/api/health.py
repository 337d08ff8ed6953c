"""`/healthz`, `/livez` and `/readyz`: plain `ok`, as Kubernetes answers them."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web


def routes(ready: Callable[[], bool]) -> list[web.RouteDef]:
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(_request: web.Request) -> web.Response:
        if ready():
            return web.Response(text="ok")
        return web.Response(text="not ready: the store is not open", status=503)

    return [web.get("/healthz", ok), web.get("/livez", ok), web.get("/readyz", readyz)]
