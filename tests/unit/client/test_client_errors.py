"""Error answers become the matching edgekube.errors class with the server's message and details."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from edgekube import errors
from edgekube.client.errors import UnexpectedStatus, error_from_response, error_from_status


def status(code: int, reason: str, message: str = "m", **extra: Any) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": message, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (400, "BadRequest", errors.BadRequest),
        (401, "Unauthorized", errors.Unauthorized),
        (403, "Forbidden", errors.Forbidden),
        (404, "NotFound", errors.NotFound),
        (409, "AlreadyExists", errors.AlreadyExists),
        (409, "Conflict", errors.Conflict),
        (410, "Expired", errors.Gone),
        (410, "Gone", errors.Gone),
        (422, "Invalid", errors.Invalid),
        (500, "InternalError", errors.InternalError),
        (504, "Timeout", errors.Timeout),
    ],
)
def test_status_maps_to_class(code: int, reason: str, expected: type[errors.ApiError]) -> None:
    """Each code (and, for 409, reason) picks its class; the message is the server's."""
    err = error_from_status(code, status(code, reason, "said the server"))
    assert type(err) is expected
    assert err.message == "said the server" and err.code == code


def test_details_and_causes_are_kept() -> None:
    """details.name/kind/causes arrive as errors.Details and errors.Cause."""
    body = status(422, "Invalid", details={"name": "x", "kind": "pods", "causes": [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}]})  # fmt: skip
    err = error_from_response(422, orjson.dumps(body))
    assert err.details is not None and err.details.name == "x" and err.details.kind == "pods"
    assert err.details.causes == [errors.Cause("FieldValueRequired", "Required value", "spec.containers")]


def test_unknown_code_keeps_its_number() -> None:
    """A code without a class (429) is UnexpectedStatus with that code and reason."""
    err = error_from_status(429, status(429, "TooManyRequests"))
    assert isinstance(err, UnexpectedStatus) and err.code == 429 and err.reason == "TooManyRequests"


def test_body_that_is_not_a_status() -> None:
    """Plain text answers still map by code, with the text in the message."""
    err = error_from_response(404, b"404: Not Found")
    assert isinstance(err, errors.NotFound) and "404: Not Found" in err.message
