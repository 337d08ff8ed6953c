"""The request path: errors become `Status` objects; every request is authenticated and
authorized before a handler runs.

Only `/livez` and `/readyz` are open to anonymous callers (load balancers and systemd
probes have no token). The authorizer is a plug-in point; today every authenticated user
may do everything, and roles come later.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import orjson
import structlog
from aiohttp import web

from edgekube.errors import (
    ApiError,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    Unauthorized,
)
from edgekube.security.tokens import TokenAuthenticator, User

log = structlog.get_logger(__name__)

ANONYMOUS_PATHS = frozenset({"/livez", "/readyz"})
USER_KEY = web.RequestKey("user", User)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Authorizer(Protocol):
    def __call__(self, user: User, request: web.Request) -> bool: ...


def allow_authenticated(user: User, request: web.Request) -> bool:
    return True


def status_response(err: ApiError) -> web.Response:
    return web.Response(body=orjson.dumps(err.status()), status=err.code, content_type="application/json")


def _from_http(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return NotFound("the server could not find the requested resource")
    if exc.status == 405:
        return MethodNotAllowed(f"the server does not allow this method on the requested resource: {exc.reason}")
    if exc.status == 413:
        return RequestEntityTooLarge("the request body is too large")
    err = ApiError(exc.reason or "request failed")
    err.code = exc.status
    err.reason = exc.reason.replace(" ", "") if exc.reason else "Unknown"
    return err


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.monotonic()
    try:
        response = await handler(request)
    except ApiError as err:
        response = status_response(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = status_response(_from_http(exc))
    except Exception as exc:
        log.exception("request failed", method=request.method, path=request.path)
        response = status_response(InternalError(f"an internal error occurred: {exc.__class__.__name__}: {exc}"))
    if response.status >= 500:
        log.warning("request", method=request.method, path=request.path, code=response.status)
    else:
        log.debug(
            "request",
            method=request.method,
            path=request.path,
            code=response.status,
            ms=round((time.monotonic() - started) * 1000, 1),
        )
    return response


def authentication(
    authenticator: TokenAuthenticator, authorize: Authorizer = allow_authenticated
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in ANONYMOUS_PATHS:
            return await handler(request)
        user = authenticator.authenticate(request.headers.get("Authorization"))
        if user is None:
            raise Unauthorized("Unauthorized: a valid bearer token is required (see the admin kubeconfig)")
        if not authorize(user, request):
            raise Forbidden(f'user "{user.name}" cannot {request.method} {request.path}')
        request[USER_KEY] = user
        return await handler(request)

    return authenticate
