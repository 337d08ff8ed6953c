"""What goes wrong talking to the API, as exceptions a caller can act on.

An answer from the server that is a `Status` becomes the matching `edgekube.errors`
class (`NotFound`, `Conflict`, `AlreadyExists`, `Invalid`, `Gone`, ...) carrying the
server's message and details, so client code catches the same types the server raises.
No answer at all (refused, reset, TLS failure, timeout) is `ServerUnreachable`: agents
take it as "offline" and keep working from their cache.
"""

from __future__ import annotations

from typing import Any

import orjson

from edgekube import errors
from edgekube.errors import ApiError, Cause, Details


class ServerUnreachable(Exception):
    """The server could not be reached or did not answer; the request may not have happened."""


class RequestTimedOut(ServerUnreachable):
    """The server accepted the connection but did not answer within the call's timeout."""


# Status codes with more than one reason are told apart by `reason` first.
_BY_REASON: dict[str, type[ApiError]] = {
    "AlreadyExists": errors.AlreadyExists,
    "Conflict": errors.Conflict,
    "Expired": errors.Gone,
    "Gone": errors.Gone,
    "Invalid": errors.Invalid,
    "NotFound": errors.NotFound,
}
_BY_CODE: dict[int, type[ApiError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    406: errors.NotAcceptable,
    409: errors.Conflict,
    410: errors.Gone,
    413: errors.RequestEntityTooLarge,
    415: errors.UnsupportedMediaType,
    422: errors.Invalid,
    500: errors.InternalError,
    504: errors.Timeout,
}


class UnexpectedStatus(ApiError):
    """An error code without a class of its own (429, 503, ...); `code` is the real one."""

    def __init__(self, code: int, reason: str, message: str, *, details: Details | None = None) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.reason = reason or "Unknown"


def _details(raw: Any) -> Details | None:
    if not isinstance(raw, dict):
        return None
    causes = [
        Cause(str(c.get("reason", "")), str(c.get("message", "")), str(c.get("field", "")))
        for c in raw.get("causes") or []
        if isinstance(c, dict)
    ]
    return Details(
        name=str(raw.get("name", "")),
        group=str(raw.get("group", "")),
        kind=str(raw.get("kind", "")),
        causes=causes,
        retry_after_seconds=int(raw.get("retryAfterSeconds") or 0),
    )


def error_from_status(code: int, status: Any) -> ApiError:
    """The exception for a `Status` body (or anything else) that came with HTTP `code`."""
    reason, message, details = "", "", None
    if isinstance(status, dict) and status.get("kind") == "Status":
        code = int(status.get("code") or code)
        reason = str(status.get("reason") or "")
        message = str(status.get("message") or "")
        details = _details(status.get("details"))
    cls = _BY_REASON.get(reason) if code in (404, 409, 410, 422) else None
    cls = cls or _BY_CODE.get(code)
    message = message or f"the server answered {code}{f' ({reason})' if reason else ''}"
    if cls is None:
        return UnexpectedStatus(code, reason, message, details=details)
    return cls(message, details=details)


def error_from_response(code: int, body: bytes) -> ApiError:
    """The exception for an HTTP error response, whether or not its body is a `Status`."""
    try:
        status: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        status = None
    err = error_from_status(code, status)
    if status is None and body:
        err.message = f"{err.message}: {body[:200].decode(errors='replace').strip()}"
        err.args = (err.message,)
    return err
