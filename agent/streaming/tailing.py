"""`GET /containerLogs/{namespace}/{pod}/{container}`: a container's output as plain text.

Query parameters are those of `pods/log`, which the API server passes through: `follow`,
`previous`, `tailLines`, `sinceSeconds` or `sinceTime`, `timestamps`, `limitBytes`.
stdout and stderr come interleaved, one line per output line; with `timestamps` each
line starts with its RFC 3339 time and a space, as the kubelet writes it.

Invariants: every refusal happens before the first byte (a Status with its code); once
the 200 is out, a runtime failure just ends the body. A follower whose client left is
noticed within `client_check_interval` and its runtime stream closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from aiohttp import web

from agent.runtime.errors import ContainerRuntimeError
from agent.runtime.interface import LogLine, Runtime
from agent.streaming import statuses
from agent.streaming.connections import until_gone
from agent.streaming.lookups import ContainerLookup, resolve

log = structlog.get_logger(__name__)

_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})
_FALSE = frozenset({"", "0", "f", "F", "false", "FALSE", "False"})


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail: int | None = None
    since: datetime | None = None
    limit_bytes: int | None = None


def query_flag(query: Mapping[str, str], name: str) -> bool:
    """A boolean parameter, spelled as Go's strconv.ParseBool accepts it."""
    value = query.get(name, "")
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise statuses.bad_request(f"{name}: {value!r} is not a boolean")


def _query_int(query: Mapping[str, str], name: str, minimum: int) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise statuses.bad_request(f"{name}: {value!r} is not an integer") from None
    if number < minimum:
        raise statuses.bad_request(f"{name}: must be at least {minimum}")
    return number


def log_options(query: Mapping[str, str], now: datetime) -> LogOptions:
    seconds = _query_int(query, "sinceSeconds", 1)
    since_time = query.get("sinceTime")
    if seconds is not None and since_time:
        raise statuses.bad_request("at most one of sinceTime or sinceSeconds may be specified")
    since = now - timedelta(seconds=seconds) if seconds is not None else None
    if since_time:
        try:
            since = datetime.fromisoformat(since_time.replace("Z", "+00:00"))
        except ValueError:
            raise statuses.bad_request(f"sinceTime: {since_time!r} is not an RFC 3339 time") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    return LogOptions(
        follow=query_flag(query, "follow"),
        previous=query_flag(query, "previous"),
        timestamps=query_flag(query, "timestamps"),
        tail=_query_int(query, "tailLines", 0),
        since=since,
        limit_bytes=_query_int(query, "limitBytes", 1),
    )


def format_time(stamp: datetime) -> str:
    """RFC 3339 in UTC with the fraction's trailing zeros cut, as Go's RFC3339Nano prints."""
    utc = stamp.astimezone(UTC)
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def render(line: LogLine, timestamps: bool) -> bytes:
    text = f"{format_time(line.timestamp)} {line.text}\n" if timestamps and line.timestamp else f"{line.text}\n"
    return text.encode()


async def aclose(iterator: AsyncIterator[LogLine]) -> None:
    """Close a runtime's log generator now (it holds a connection), not when it is collected."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


async def container_logs(
    request: web.Request, *, runtime: Runtime, lookup: ContainerLookup, check_interval: float
) -> web.StreamResponse:
    namespace, pod, container = (request.match_info[k] for k in ("namespace", "pod", "container"))
    options = log_options(request.query, datetime.now(UTC))
    container_id = (await resolve(runtime, lookup, namespace, pod, container, previous=options.previous)).id
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)

    async def copy() -> None:
        budget = options.limit_bytes
        lines = runtime.logs(
            container_id, follow=options.follow, tail=options.tail, since=options.since, timestamps=options.timestamps
        )
        try:
            async for line in lines:
                data = render(line, options.timestamps)
                if budget is not None:
                    data = data[:budget]
                    budget -= len(data)
                await response.write(data)
                if budget == 0:
                    return
        finally:
            await aclose(lines)

    try:
        await until_gone(request, copy(), interval=check_interval)
    except (ConnectionResetError, ContainerRuntimeError) as err:
        log.info("logs stream ended early", pod=f"{namespace}/{pod}", container=container, error=str(err))
        return response
    try:
        await response.write_eof()
    except ConnectionResetError:
        pass
    return response
