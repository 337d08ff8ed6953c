"""Raw PATCH bodies in, parsed JSON values out; a body that is not JSON is a `BadRequest`."""

from __future__ import annotations

from typing import Any

import orjson

from edgekube.errors import BadRequest


def parse_json(body: bytes, content_type: str) -> Any:
    """The JSON value in `body`, with the parser's own words when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"invalid {content_type} body: {err}") from err
