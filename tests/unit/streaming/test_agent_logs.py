"""The agent's containerLogs endpoint over the fake runtime: options, follow, previous, refusals."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from agent.runtime.fake_programs import Exit, Program, Sleep, Write
from agent.runtime.interface import ContainerId, LogLine
from tests.unit.streaming.conftest import Node

TALKER = Program((Write("one\n"), Write("two\n", "stderr"), Write("three\n"), Sleep()))


async def test_logs_with_options(node: Node, agent_http: aiohttp.ClientSession) -> None:
    """Both streams interleaved; tailLines, timestamps and limitBytes as kubectl sends them."""
    await node.start("ns", "web", {"main": TALKER})
    async with agent_http.get("/containerLogs/ns/web/main", ssl=node.pin()) as r:
        assert (r.status, await r.text()) == (200, "one\ntwo\nthree\n")
    async with agent_http.get("/containerLogs/ns/web/main?tailLines=1", ssl=node.pin()) as r:
        assert await r.text() == "three\n"
    async with agent_http.get("/containerLogs/ns/web/main?timestamps=true&tailLines=2", ssl=node.pin()) as r:
        lines = (await r.text()).splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
    assert [re.fullmatch(rf"{stamp} (two|three)", line) is not None for line in lines] == [True, True]
    async with agent_http.get("/containerLogs/ns/web/main?limitBytes=6", ssl=node.pin()) as r:
        assert await r.text() == "one\ntw"
    async with agent_http.get("/containerLogs/ns/web/main?sinceSeconds=3600", ssl=node.pin()) as r:
        assert await r.text() == "one\ntwo\nthree\n"


async def test_follow_streams_new_lines_until_exit(node: Node, agent_http: aiohttp.ClientSession) -> None:
    """follow=true sends lines as they are written and ends when the container exits."""
    program = Program((Write("first\n"), Sleep(0.3), Write("second\n"), Sleep(0.3), Exit(0)))
    await node.start("ns", "tick", {"main": program})
    async with asyncio.timeout(10), agent_http.get("/containerLogs/ns/tick/main?follow=true", ssl=node.pin()) as r:
        assert await r.content.readline() == b"first\n"
        assert await r.content.readline() == b"second\n"
        assert await r.content.read() == b""


async def test_follower_that_leaves_is_released(
    node: Node, agent_http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower's disconnect closes its runtime stream although the container prints nothing more."""
    await node.start("ns", "quiet", {"main": Program((Write("only\n"), Sleep()))})
    open_streams = 0
    all_closed = asyncio.Event()
    original = node.runtime.logs

    async def counted(container: ContainerId, **options: Any) -> AsyncIterator[LogLine]:
        nonlocal open_streams
        open_streams += 1
        try:
            async for line in original(container, **options):
                yield line
        finally:
            open_streams -= 1
            if not open_streams:
                all_closed.set()

    monkeypatch.setattr(node.runtime, "logs", counted)
    async with agent_http.get("/containerLogs/ns/quiet/main?follow=1", ssl=node.pin()) as r:
        assert await r.content.readline() == b"only\n"
        assert open_streams == 1
    async with asyncio.timeout(5):  # the server checks every 0.05 s
        await all_closed.wait()


async def test_previous_is_the_earlier_incarnation(node: Node, agent_http: aiohttp.ClientSession) -> None:
    """previous=true reads the container before the last restart."""
    await node.start("ns", "crashy", {"main": Program((Write("before the crash\n"), Exit(1)))})
    await node.start("ns", "crashy", {"main": Program((Write("after\n"), Sleep()))}, restart_count=1)
    await asyncio.sleep(0.05)
    async with agent_http.get("/containerLogs/ns/crashy/main?previous=true", ssl=node.pin()) as r:
        assert await r.text() == "before the crash\n"
    async with agent_http.get("/containerLogs/ns/crashy/main", ssl=node.pin()) as r:
        assert await r.text() == "after\n"


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/containerLogs/ns/web/other", 400, 'container "other" in pod "web" is not available'),
        ("/containerLogs/ns/web/main?previous=true", 400, 'previous terminated container "main" in pod "web"'),
        ("/containerLogs/ns/web/main?tailLines=-1", 400, "tailLines: must be at least 0"),
        ("/containerLogs/ns/web/main?follow=maybe", 400, "follow: 'maybe' is not a boolean"),
        ("/containerLogs/ns/web/main?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", 400, "at most one of"),
        ("/nothing/here", 404, ""),
    ],
)
async def test_refusals_are_statuses(
    node: Node, agent_http: aiohttp.ClientSession, path: str, code: int, message: str
) -> None:
    """Bad requests get a Kubernetes Status with the kubelet's code and wording."""
    await node.start("ns", "web", {"main": TALKER})
    async with agent_http.get(path, ssl=node.pin()) as r:
        status = await r.json()
    assert (r.status, status["kind"], status["code"]) == (code, "Status", code)
    assert message in status["message"]


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic am9pbg=="])
async def test_requests_need_the_join_token(node: Node, header: str | None) -> None:
    """Without the join token every endpoint but /healthz answers 401."""
    await node.start("ns", "web", {"main": TALKER})
    headers = {"Authorization": header} if header else {}
    async with aiohttp.ClientSession(base_url=node.base, headers=headers) as session:
        async with session.get("/containerLogs/ns/web/main", ssl=node.pin()) as r:
            assert (r.status, (await r.json())["reason"]) == (401, "Unauthorized")
        async with session.get("/healthz", ssl=node.pin()) as r:
            assert (r.status, await r.text()) == (200, "ok")
