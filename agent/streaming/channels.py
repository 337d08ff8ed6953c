"""The Kubernetes remote-command WebSocket protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`).

What flows through it: binary WebSocket messages whose first byte names a channel and
whose rest is that channel's data. Clients write stdin (0), terminal sizes (4) and, in
v5 only, a close signal (255) followed by the channel id it half-closes ([255, 0] is
"end of stdin"). The server writes stdout (1) and stderr (2), then exactly one `Status`
on the error channel (3) saying how the command ended, then closes the WebSocket with
code 1000; the client reads the error channel until that close.

v4 is v5 without the close signal, so one implementation serves both. Older versions
(v1-v3) report errors as plain text and are not offered: kubectl 1.30+ asks only for v5.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)
"""Offered subprotocols, best first."""

NON_ZERO_EXIT = "NonZeroExitCode"
EXIT_CODE_CAUSE = "ExitCode"


class Channel(enum.IntEnum):
    STDIN = 0
    STDOUT = 1
    STDERR = 2
    ERROR = 3
    RESIZE = 4
    CLOSE = 255
    """v5: the next byte names the channel the client will not write to any more."""


@dataclass(frozen=True)
class Size:
    width: int
    height: int


def frame(channel: Channel, data: bytes = b"") -> bytes:
    return bytes((channel,)) + data


def split(message: bytes) -> tuple[int, bytes] | None:
    """(channel, data) of one binary message; None for an empty message (a no-op)."""
    if not message:
        return None
    return message[0], message[1:]


def negotiate(offered: Iterable[str]) -> str | None:
    """The first subprotocol the client offers that we speak (the client's order wins)."""
    for protocol in offered:
        if protocol.strip() in PROTOCOLS:
            return protocol.strip()
    return None


def offered_protocols(header: str | None) -> list[str]:
    """The values of a `Sec-WebSocket-Protocol` header."""
    return [p.strip() for p in (header or "").split(",") if p.strip()]


def sizes(data: bytes) -> Iterator[Size]:
    """Terminal sizes in one resize message: JSON objects {"Width": w, "Height": h}, one or more."""
    decoder = json.JSONDecoder()
    text = data.decode(errors="replace")
    pos = 0
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return
        if isinstance(item, dict):
            width, height = item.get("Width"), item.get("Height")
            if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
                yield Size(width, height)


def exit_status(code: int, command: Sequence[str] = ()) -> dict[str, Any]:
    """The error-channel Status for a process that exited with `code`.

    kubectl reads reason NonZeroExitCode and the ExitCode cause and exits with that code.
    """
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    what = f"command {list(command)}" if command else "command"
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: {what} exited with code {code}",
        "reason": NON_ZERO_EXIT,
        "details": {"causes": [{"reason": EXIT_CODE_CAUSE, "message": str(code)}]},
    }


def failure_status(message: str) -> dict[str, Any]:
    """The error-channel Status for a stream that failed for another reason (kubectl prints it)."""
    return {"metadata": {}, "status": "Failure", "message": message}


def status_frame(status: dict[str, Any]) -> bytes:
    return frame(Channel.ERROR, json.dumps(status, separators=(",", ":")).encode())
