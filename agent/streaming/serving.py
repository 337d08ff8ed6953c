"""The agent's streaming server: HTTPS on the kubelet's port, for `kubectl logs` and `exec`.

The API server proxies `pods/log` and `pods/exec` here (see edgekube/api/proxying.py).
Requests carry `Authorization: Bearer <join token>`; only `/healthz` is open. TLS uses
the self-signed certificate of `certificates`, whose fingerprint the agent publishes on
its Node for the API server to pin. Errors are Kubernetes `Status` objects.

`serve_streaming` returns once the port listens; the caller (the agent core) keeps the
returned `StreamingServer`, publishes its `fingerprint` and `port`, and closes it on the
way out, which ends open exec sessions at once.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web

from agent.runtime.interface import Runtime
from agent.streaming import executing, statuses, tailing
from agent.streaming.certificates import ServingCertificate, ensure_certificate
from agent.streaming.lookups import ContainerLookup
from agent.streaming.settings import StreamingSettings

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = frozenset({"/healthz"})


@dataclass
class StreamingServer:
    """A running streaming server: where it listens and what the API server must pin."""

    port: int
    fingerprint: str
    """SHA-256 of the serving certificate (hex): the value of the Node annotation
    `edgekube.io/streaming-cert-sha256`."""
    runner: web.AppRunner

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve_streaming(runtime: Runtime, lookup: ContainerLookup, settings: StreamingSettings) -> StreamingServer:
    """Start listening; raises OSError when the port is taken."""
    cert = await asyncio.to_thread(ensure_certificate, settings.cert_dir, settings.names)
    app = build_app(runtime, lookup, settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=settings.shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, settings.bind_address, settings.port, ssl_context=_ssl_context(cert))
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    port = int(runner.addresses[0][1])
    log.info("streaming server listening", address=settings.bind_address, port=port, fingerprint=cert.fingerprint)
    return StreamingServer(port, cert.fingerprint, runner)


def build_app(runtime: Runtime, lookup: ContainerLookup, settings: StreamingSettings) -> web.Application:
    app = web.Application(middlewares=[errors, authentication(settings.token)])
    app[executing.WEBSOCKETS] = set()
    app.on_shutdown.append(executing.close_websockets)
    logs = functools.partial(
        tailing.container_logs, runtime=runtime, lookup=lookup, check_interval=settings.client_check_interval
    )
    run = functools.partial(executing.exec_in_container, runtime=runtime, lookup=lookup)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", logs)
    app.router.add_get("/exec/{namespace}/{pod}/{container}", run)
    return app


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def _ssl_context(cert: ServingCertificate) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile=cert.cert, keyfile=cert.key)
    return ctx


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except statuses.StreamError as err:
        return statuses.response(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reason = (exc.reason or "Error").replace(" ", "")
        return statuses.response(statuses.StreamError(exc.status, reason, f"{request.path}: {exc.reason}"))
    except Exception as exc:
        log.exception("streaming request failed", path=request.path)
        return statuses.response(statuses.internal(f"{exc.__class__.__name__}: {exc}"))


def authentication(token: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in OPEN_PATHS:
            given = request.headers.get("Authorization", "").strip().encode()
            if not token or not hmac.compare_digest(given, expected):
                raise statuses.StreamError(401, "Unauthorized", "the node agent wants the cluster's join token")
        return await handler(request)

    return authenticate
