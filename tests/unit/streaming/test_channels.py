"""The remote-command channel protocol: framing, negotiation, resize messages, exit Statuses."""

from __future__ import annotations

import json

import pytest

from agent.streaming import channels
from agent.streaming.channels import V4, V5, Channel, Size


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ([V5], V5),
        ([V4, V5], V4),  # the client's order wins
        (["channel.k8s.io", V4], V4),
        (["v3.channel.k8s.io", "base64.channel.k8s.io"], None),
        ([], None),
    ],
)
def test_negotiate(offered: list[str], chosen: str | None) -> None:
    """The first offered subprotocol we speak is chosen; v1-v3 are not spoken."""
    assert channels.negotiate(offered) == chosen


def test_offered_protocols_header() -> None:
    """The Sec-WebSocket-Protocol header is a comma list with optional spaces."""
    assert channels.offered_protocols(f"{V5}, {V4},") == [V5, V4]
    assert channels.offered_protocols(None) == []


def test_frames_round_trip() -> None:
    """A frame is the channel byte and the data; an empty message carries nothing."""
    assert channels.frame(Channel.STDOUT, b"hi") == b"\x01hi"
    assert channels.split(b"\x00abc") == (0, b"abc")
    assert channels.split(b"\xff\x00") == (255, b"\x00")
    assert channels.split(b"") is None


@pytest.mark.parametrize(
    ("data", "sizes"),
    [
        (b'{"Width":80,"Height":24}', [Size(80, 24)]),
        (b'{"Width":80,"Height":24}{"Width":100,"Height":30}\n', [Size(80, 24), Size(100, 30)]),
        (b'{"Width":0,"Height":24}', []),
        (b'{"Width":"80","Height":24}', []),
        (b"not json", []),
    ],
)
def test_resize_messages(data: bytes, sizes: list[Size]) -> None:
    """Resize messages hold one or more JSON sizes; nonsense is ignored, not fatal."""
    assert list(channels.sizes(data)) == sizes


def test_exit_statuses() -> None:
    """Exit 0 is Success; others are NonZeroExitCode with the code as the ExitCode cause."""
    assert channels.exit_status(0) == {"metadata": {}, "status": "Success"}
    failed = channels.exit_status(3, ["sh", "-c", "exit 3"])
    assert (failed["status"], failed["reason"]) == ("Failure", "NonZeroExitCode")
    assert failed["details"] == {"causes": [{"reason": "ExitCode", "message": "3"}]}
    frame = channels.status_frame(channels.failure_status("boom"))
    assert frame[0] == Channel.ERROR
    assert json.loads(frame[1:]) == {"metadata": {}, "status": "Failure", "message": "boom"}
