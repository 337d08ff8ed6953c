"""What a resource request sends and wants back: body decoding, Accept negotiation, options.

Bodies may be JSON or YAML (as people with curl send them) or Kubernetes protobuf (what
kubectl's typed `create` subcommands and Go clients send), at most 3 MiB.
Responses are JSON, or YAML when asked for, optionally as a `Table` (what `kubectl get`
asks for) or as `PartialObjectMetadata`; protobuf is never offered, so clients that
list it first fall back to JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from aiohttp import web

from edgekube.api.media import parse_accept
from edgekube.api.protobuf import decode_protobuf, is_protobuf
from edgekube.errors import BadRequest, NotAcceptable, RequestEntityTooLarge, UnsupportedMediaType

MAX_BODY = 3 * 1024 * 1024
JSON = "application/json"
YAML = "application/yaml"
META_GROUP = "meta.k8s.io"

try:  # the C loader is ten times faster; fall back where libyaml is missing
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


@dataclass(frozen=True)
class Wanted:
    """The negotiated response shape."""

    media: str = JSON  # JSON or YAML
    as_table: bool = False
    as_metadata: bool = False  # PartialObjectMetadata(List)


def negotiate(accept: str | None) -> Wanted:
    if not accept or not accept.strip():
        return Wanted()
    best: tuple[float, Wanted] | None = None
    for media in parse_accept(accept):
        wanted = _offer(media.type, media.params)
        if wanted is not None and media.q > 0 and (best is None or media.q > best[0]):
            best = (media.q, wanted)
    if best is None:
        raise NotAcceptable(
            f"only the following media types are accepted: {JSON}, {YAML}, {JSON};as=Table;v=v1;g={META_GROUP}"
        )
    return best[1]


def _offer(media: str, params: dict[str, str]) -> Wanted | None:
    conversion = params.get("as")
    if conversion is not None:
        if media != JSON or params.get("g") != META_GROUP or params.get("v") not in ("v1", "v1beta1"):
            return None
        if conversion == "Table":
            return Wanted(as_table=True)
        if conversion in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return Wanted(as_metadata=True)
        return None
    if media in (JSON, "application/*", "*/*"):
        return Wanted()
    if media in (YAML, "application/x-yaml", "text/yaml"):
        return Wanted(media=YAML)
    return None


async def read_body(request: web.Request) -> bytes:
    """The raw request body, refusing more than MAX_BODY bytes without reading them all."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise RequestEntityTooLarge(
            f"the request body is {request.content_length} bytes; the limit is {MAX_BODY} bytes"
        )
    data = await request.content.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise RequestEntityTooLarge(f"the request body is larger than the limit of {MAX_BODY} bytes")
    return data


def body_type(request: web.Request) -> str:
    """The request's Content-Type as sent ('' when absent: aiohttp would say octet-stream)."""
    return request.headers.get("Content-Type", "")


async def read_object(request: web.Request) -> Any:
    """The decoded object a create or update sends."""
    return decode_body(await read_body(request), body_type(request))


def decode_body(data: bytes, content_type: str) -> Any:
    """The object in a JSON or YAML body; 400 with the parser's message when malformed."""
    if not data.strip():
        raise BadRequest("the request body is empty; expected an object")
    media = content_type.split(";")[0].strip().lower()
    if media in ("", JSON, "*/*", "text/plain"):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as err:
            raise BadRequest(f"the request body is not valid JSON: {err}") from err
    if media in (YAML, "application/x-yaml", "text/yaml"):
        try:
            return yaml.load(data, Loader=_YamlLoader)
        except yaml.YAMLError as err:
            raise BadRequest(f"the request body is not valid YAML: {err}") from err
    if is_protobuf(media):
        return decode_protobuf(data)
    raise UnsupportedMediaType(f"unsupported content type {media!r}; send application/json or application/yaml")


def encode(body: Any, wanted: Wanted) -> tuple[bytes, str]:
    if wanted.media == YAML:
        return yaml.safe_dump(body, sort_keys=False).encode(), YAML
    return orjson.dumps(body), JSON


def query_bool(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "")
    if value in ("", "false", "0", "False"):
        return False
    if value in ("true", "1", "True"):
        return True
    raise BadRequest(f"{name} must be true or false, not {value!r}")


def query_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as err:
        raise BadRequest(f"{name} must be an integer, not {value!r}") from err


def dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise BadRequest(f"dryRun must be All, not {v!r}")
    return bool(values)
