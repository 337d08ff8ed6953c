"""A small async API client for tests that need their own server (restart, kill, compaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from tests.support.servers import ServerProcess


@asynccontextmanager
async def session(server: ServerProcess, *, limit: int = 100) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.token}"},
        connector=aiohttp.TCPConnector(ssl=server.ssl_context(), limit=limit),
    ) as s:
        yield s


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


async def watch_lines(s: aiohttp.ClientSession, path: str, *, count: int, within: float = 10) -> list[dict[str, Any]]:
    """The first `count` events of a watch (or fewer if the server ends it first)."""
    events: list[dict[str, Any]] = []
    async with s.get(path, timeout=aiohttp.ClientTimeout(total=within)) as r:
        assert r.status == 200, await r.text()
        async for line in r.content:
            if line.strip():
                events.append(orjson.loads(line))
            if len(events) >= count:
                break
    return events
