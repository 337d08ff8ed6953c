"""Long-lived Podman API streams (logs, container wait, exec) spoken directly over the socket.

Request/response calls go through `PodmanRuntime`'s aiohttp session; these few endpoints
are spoken here with asyncio's own unix sockets instead, because exec hijacks the
connection after the response head (it then carries stdin one way and the output the
other) and a followed log never ends: cancelling the awaiting task closes the connection.

Invariants: one connection per stream, closed when the stream ends or is cancelled;
HTTP errors become the typed errors of `agent.runtime.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from agent.runtime.errors import ContainerRuntimeError, NotFoundError, RuntimeUnavailableError
from agent.runtime.interface import Stream

_READ_SIZE = 65536
_STDERR = 2


class HttpStream:
    """One HTTP/1.1 exchange whose response body is read incrementally."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.headers: dict[str, str] = {}
        self._chunked = False
        self._remaining: int | None = None  # None: until the server closes
        self._chunk_left = 0
        self._done = False
        self._buffer = b""

    async def read_head(self) -> None:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ", 2)[1])
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                self.headers[key.strip().lower()] = value.strip()
        self._chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        if "content-length" in self.headers:
            self._remaining = int(self.headers["content-length"])
        if self.status in (204, 304):
            self._remaining = 0

    async def read_some(self) -> bytes:
        """The next piece of the body; b'' at its end."""
        if self._buffer:
            data, self._buffer = self._buffer, b""
            return data
        if self._done:
            return b""
        if self._chunked:
            return await self._read_chunked()
        if self._remaining is not None:
            if self._remaining == 0:
                self._done = True
                return b""
            data = await self.reader.read(min(self._remaining, _READ_SIZE))
            self._remaining -= len(data)
        else:
            data = await self.reader.read(_READ_SIZE)
        if not data:
            self._done = True
        return data

    async def _read_chunked(self) -> bytes:
        if self._chunk_left == 0:
            size_line = await self.reader.readline()
            if not size_line:
                self._done = True
                return b""
            self._chunk_left = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if self._chunk_left == 0:
                self._done = True
                return b""
        data = await self.reader.read(min(self._chunk_left, _READ_SIZE))
        if not data:
            self._done = True
            return b""
        self._chunk_left -= len(data)
        if self._chunk_left == 0:
            await self.reader.readexactly(2)  # the CRLF after each chunk
        return data

    async def read_exactly(self, size: int) -> bytes:
        """`size` bytes, or fewer at the end of the body."""
        parts: list[bytes] = []
        wanted = size
        while wanted > 0:
            data = await self.read_some()
            if not data:
                break
            if len(data) > wanted:
                data, self._buffer = data[:wanted], data[wanted:]
            parts.append(data)
            wanted -= len(data)
        return b"".join(parts)

    async def read_all(self) -> bytes:
        parts = []
        while data := await self.read_some():
            parts.append(data)
        return b"".join(parts)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await self.writer.wait_closed()


async def open_stream(
    socket_path: Path,
    api_version: str,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    body: Any = None,
    upgrade: bool = False,
) -> HttpStream:
    """Send one request to the libpod API and read the response head.

    With `upgrade` the connection is hijacked after the head (exec): it then carries raw
    bytes both ways. Raises NotFoundError on 404 and ContainerRuntimeError on other errors.
    """
    query = urllib.parse.urlencode(query_items(params))
    target = f"/v{api_version}/libpod{path}" + (f"?{query}" if query else "")
    payload = b"" if body is None else json.dumps(body).encode()
    headers = [f"{method} {target} HTTP/1.1", "Host: podman", f"Content-Length: {len(payload)}"]
    if body is not None:
        headers.append("Content-Type: application/json")
    headers += ["Connection: Upgrade", "Upgrade: tcp"] if upgrade else ["Connection: close"]
    try:
        reader, writer = await asyncio.open_unix_connection(str(socket_path), limit=_READ_SIZE * 4)
    except OSError as err:
        raise RuntimeUnavailableError(f"cannot reach the podman service at {socket_path}: {err}") from err
    stream = HttpStream(reader, writer)
    try:
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        await stream.read_head()
        if stream.status >= 400:
            raise _error(stream.status, await stream.read_all(), f"{method} {path}")
    except BaseException:
        await stream.close()
        raise
    return stream


def query_items(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as libpod reads them: booleans spelled true/false, a list as the key
    repeated, None left out."""
    items: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        for one in value if isinstance(value, list | tuple) else [value]:
            if one is not None:
                items.append((key, _query_value(one)))
    return items


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error(status: int, body: bytes, what: str) -> ContainerRuntimeError:
    try:
        message = str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        message = body.decode(errors="replace")
    if status == 404:
        return NotFoundError(f"{what}: {message}")
    return ContainerRuntimeError(f"{what}: HTTP {status}: {message}")


async def read_frames(stream: HttpStream, *, multiplexed: bool) -> AsyncIterator[tuple[Stream, bytes]]:
    """Output of logs and exec: 8-byte-framed stdout/stderr, or raw bytes from a terminal.

    A frame header is [stream type, 0, 0, 0, big-endian uint32 length]; type 2 is stderr.
    """
    if not multiplexed:
        while data := await stream.read_some():
            yield "stdout", data
        return
    while True:
        header = await stream.read_exactly(8)
        if len(header) < 8:
            return
        size = int.from_bytes(header[4:8], "big")
        payload = await stream.read_exactly(size)
        yield ("stderr" if header[0] == _STDERR else "stdout"), payload
        if len(payload) < size:
            return
