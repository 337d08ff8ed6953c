"""`Watch`: one resource's change events as an async iterator of `(type, object)`.

The server sends newline-delimited `WatchEvent` JSON over one chunked response, and ends
it after `timeoutSeconds` (or its own 30-60 minutes) or when the connection drops. The
iterator then reconnects from the last `resourceVersion` it saw (bookmarks included), so
the caller sees one unbroken sequence. When that revision has been compacted away the
server answers 410 and the iterator raises `edgekube.errors.Gone`: the caller must list
again and watch from the list's revision. Failing to reconnect raises `ServerUnreachable`.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

import aiohttp
import orjson

from edgekube.client.errors import ServerUnreachable, error_from_response, error_from_status

if TYPE_CHECKING:
    from edgekube.client.api import ApiClient

# Without an event or a bookmark for this long, the connection is taken as dead and
# reopened. The server sends a bookmark after a minute of quiet.
IDLE_TIMEOUT = 150.0
QUICK_END = 1.0  # a stream that ends this soon with nothing in it is not reopened at once
MAX_REOPEN_DELAY = 5.0


class WatchEvent(NamedTuple):
    """One change: `type` is ADDED, MODIFIED, DELETED or BOOKMARK; `object` the object after it."""

    type: str
    object: dict[str, Any]


class Watch:
    """Async iterator of `WatchEvent`s; use `async with` (or call `aclose`) to free its connection."""

    def __init__(
        self,
        client: ApiClient,
        path: str,
        params: dict[str, str],
        *,
        resource_version: str = "",
        timeout_seconds: int | None = None,
        bookmarks: bool = True,
        yield_bookmarks: bool = False,
    ) -> None:
        self._client = client
        self._path = path
        self._params = params
        self.resource_version = resource_version
        """The revision to resume from: that of the last event or bookmark seen."""
        self._timeout_seconds = timeout_seconds
        self._bookmarks = bookmarks
        self._yield_bookmarks = yield_bookmarks
        self._response: aiohttp.ClientResponse | None = None
        self._buffer = bytearray()
        self._opened_at = 0.0
        self._delivered = False
        self._reopen_delay = 0.0
        self._closed = False

    def __aiter__(self) -> Watch:
        return self

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        self._drop()

    async def __anext__(self) -> WatchEvent:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._response is None:
                await self._open()
            line = await self._next_line()
            if line is None:
                await self._ended()
                continue
            event = self._decode(line)
            if event is not None:
                return event

    # -- connection --------------------------------------------------------------------------

    async def _open(self) -> None:
        params = dict(self._params, watch="true")
        if self.resource_version:
            params["resourceVersion"] = self.resource_version
        if self._bookmarks:
            params["allowWatchBookmarks"] = "true"
        if self._timeout_seconds:
            params["timeoutSeconds"] = str(self._timeout_seconds)
        # No total limit (a watch runs for minutes); a bound on silence when bookmarks keep it talking.
        limit = aiohttp.ClientTimeout(
            total=None, connect=self._client.timeout, sock_read=IDLE_TIMEOUT if self._bookmarks else None
        )
        try:
            async with asyncio.timeout(self._client.timeout):
                response = await self._client.session().get(self._client.url(self._path), params=params, timeout=limit)
        except (TimeoutError, aiohttp.ClientError) as err:
            raise ServerUnreachable(f"watch {self._path}: {err or 'no answer'}") from err
        if response.status >= 400:
            try:
                body = await response.read()
            except (TimeoutError, aiohttp.ClientError):
                body = b""
            response.close()
            raise error_from_response(response.status, body)
        self._response = response
        self._buffer.clear()
        self._opened_at = time.monotonic()
        self._delivered = False

    async def _next_line(self) -> bytes | None:
        """The next non-empty line, or None when the stream has ended (for any reason)."""
        assert self._response is not None
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                if line.strip():
                    return line
                continue
            try:
                chunk = await self._response.content.readany()
            except (TimeoutError, aiohttp.ClientError):
                return None
            if not chunk:
                return None
            self._buffer.extend(chunk)

    async def _ended(self) -> None:
        """The stream ended: drop it, and pause first if it keeps ending at once."""
        quick = not self._delivered and time.monotonic() - self._opened_at < QUICK_END
        self._drop()
        if quick:
            self._reopen_delay = min(MAX_REOPEN_DELAY, max(0.1, self._reopen_delay * 2))
            await asyncio.sleep(self._reopen_delay)
        else:
            self._reopen_delay = 0.0

    def _drop(self) -> None:
        if self._response is not None:
            # close(), not release(): a half-read watch stream cannot go back to the pool.
            self._response.close()
            self._response = None

    # -- events ------------------------------------------------------------------------------

    def _decode(self, line: bytes) -> WatchEvent | None:
        try:
            frame = orjson.loads(line)
            kind, obj = str(frame["type"]), frame["object"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as err:
            self._drop()
            raise ServerUnreachable(f"watch {self._path}: not a watch event: {line[:120]!r}") from err
        if kind == "ERROR":
            self._drop()
            code = int(obj.get("code") or 500) if isinstance(obj, dict) else 500
            raise error_from_status(code, obj)
        rv = (obj.get("metadata") or {}).get("resourceVersion") if isinstance(obj, dict) else None
        if rv:
            self.resource_version = str(rv)
        self._delivered = True
        if kind == "BOOKMARK" and not self._yield_bookmarks:
            return None
        return WatchEvent(kind, obj)
