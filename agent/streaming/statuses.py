"""Error answers of the streaming server: Kubernetes `Status` objects, as the kubelet sends.

The API server passes them on to kubectl unchanged. A refused WebSocket upgrade also
carries the Status in the `STATUS_HEADER` header, because WebSocket clients (aiohttp's
among them) drop the body of a failed handshake.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

STATUS_HEADER = "X-EdgeKube-Status"


class StreamError(Exception):
    """A request the streaming server refuses; `code` and `reason` as in Kubernetes."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


def bad_request(message: str) -> StreamError:
    return StreamError(400, "BadRequest", message)


def not_found(message: str) -> StreamError:
    return StreamError(404, "NotFound", message)


def internal(message: str) -> StreamError:
    return StreamError(500, "InternalError", message)


def response(err: StreamError) -> web.Response:
    body = json.dumps(err.status())  # ASCII only: it must also fit in a header
    return web.Response(text=body, status=err.code, content_type="application/json", headers={STATUS_HEADER: body})
