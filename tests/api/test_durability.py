"""A write answered 201 survives `kill -9` of the server in the middle of a burst."""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp

from tests.support.client import configmap, session
from tests.support.servers import ServerProcess

URL = "/api/v1/namespaces/default/configmaps"


async def test_kill_during_burst_loses_no_acknowledged_create(fresh_server: ServerProcess) -> None:
    """Every create answered 201 before the kill is present after restart; the database is intact."""
    fresh_server.start()
    acknowledged: list[str] = []
    enough = asyncio.Event()

    async def creator(s: aiohttp.ClientSession, worker: int) -> None:
        for i in range(10_000):
            name = f"w{worker}-{i}"
            try:
                async with s.post(URL, json=configmap(name, payload="x" * 200)) as r:
                    if r.status == 201:
                        acknowledged.append(name)
                        if len(acknowledged) >= 300:
                            enough.set()
            except (TimeoutError, aiohttp.ClientError):
                return

    async with session(fresh_server, limit=32) as s:
        workers = [asyncio.create_task(creator(s, w)) for w in range(32)]
        await asyncio.wait_for(enough.wait(), 60)
        fresh_server.kill9()
        await asyncio.gather(*workers)
    assert len(acknowledged) >= 300

    db = fresh_server.data_dir / "server" / "state.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fresh_server.start()
    async with session(fresh_server) as s:
        async with s.get(URL) as r:
            stored = {i["metadata"]["name"] for i in (await r.json())["items"]}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged creates lost, e.g. {sorted(missing)[:5]}"
