"""The client side of the remote-command WebSocket protocol, as much as tests need."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import WSMsgType


@dataclass
class Transcript:
    """What a client received in one exec session."""

    stdout: bytes = b""
    stderr: bytes = b""
    status: dict[str, Any] = field(default_factory=dict)
    close_code: int | None = None

    @property
    def exit_code(self) -> int:
        if self.status.get("status") == "Success":
            return 0
        causes = (self.status.get("details") or {}).get("causes") or []
        return int(causes[0]["message"]) if causes else -1


async def read_all(ws: aiohttp.ClientWebSocketResponse) -> Transcript:
    """Read frames until the server closes."""
    seen = Transcript()
    async for message in ws:
        assert message.type is WSMsgType.BINARY, message
        channel, data = message.data[0], message.data[1:]
        if channel == 1:
            seen.stdout += data
        elif channel == 2:
            seen.stderr += data
        elif channel == 3:
            seen.status = json.loads(data)
    seen.close_code = ws.close_code
    return seen


def stdin(data: bytes) -> bytes:
    return b"\x00" + data


STDIN_CLOSED = b"\xff\x00"
