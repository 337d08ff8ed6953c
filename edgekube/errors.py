"""Domain errors that every layer raises and the API turns into Kubernetes `Status` objects.

Each error knows its HTTP code and Kubernetes `reason`, so the one aiohttp middleware
that maps errors to responses needs no knowledge of where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cause:
    """One reason behind an error, usually one invalid field (`details.causes[]`)."""

    reason: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass
class Details:
    """`Status.details`: which object the error is about."""

    name: str = ""
    group: str = ""
    kind: str = ""
    causes: list[Cause] = field(default_factory=list)
    retry_after_seconds: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.group:
            out["group"] = self.group
        if self.kind:
            out["kind"] = self.kind
        if self.causes:
            out["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after_seconds:
            out["retryAfterSeconds"] = self.retry_after_seconds
        return out


class ApiError(Exception):
    """An error with a Kubernetes status code and reason."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: Details | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details.to_dict()
        return body


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Unauthorized(ApiError):
    code = 401
    reason = "Unauthorized"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptable(ApiError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"


class Conflict(ApiError):
    code = 409
    reason = "Conflict"


class Gone(ApiError):
    """A resourceVersion or continue token older than what compaction kept."""

    code = 410
    reason = "Expired"


class RequestEntityTooLarge(ApiError):
    code = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(ApiError):
    """422: the object failed validation; `causes` name each bad field."""

    code = 422
    reason = "Invalid"


class Timeout(ApiError):
    code = 504
    reason = "Timeout"


class InternalError(ApiError):
    code = 500
    reason = "InternalError"


def not_found(resource: str, name: str, group: str = "") -> NotFound:
    """The Kubernetes wording: `deployments.apps "web" not found`."""
    qualified = f"{resource}.{group}" if group else resource
    return NotFound(
        f'{qualified} "{name}" not found',
        details=Details(name=name, group=group, kind=resource),
    )


def already_exists(resource: str, name: str, group: str = "") -> AlreadyExists:
    qualified = f"{resource}.{group}" if group else resource
    return AlreadyExists(
        f'{qualified} "{name}" already exists',
        details=Details(name=name, group=group, kind=resource),
    )


def conflict(resource: str, name: str, group: str = "", why: str = "") -> Conflict:
    qualified = f"{resource}.{group}" if group else resource
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return Conflict(
        f'Operation cannot be fulfilled on {qualified} "{name}": {why}',
        details=Details(name=name, group=group, kind=resource),
    )


def invalid(kind: str, name: str, causes: list[Cause], group: str = "") -> Invalid:
    """422 with the Kubernetes message shape: `Deployment.apps "web" is invalid: a, b`."""
    qualified = f"{kind}.{group}" if group else kind
    summary = ", ".join(f"{c.field}: {c.message}" if c.field else c.message for c in causes)
    return Invalid(
        f'{qualified} "{name}" is invalid: {summary}',
        details=Details(name=name, group=group, kind=kind, causes=causes),
    )
