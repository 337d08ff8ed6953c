"""State outlives the server process: objects, revisions, watch resumption, compaction."""

from __future__ import annotations

import asyncio

from tests.support.client import configmap, session, watch_lines
from tests.support.servers import ServerProcess

URL = "/api/v1/namespaces/default/configmaps"


async def test_restart_keeps_objects_and_watch_resumes(fresh_server: ServerProcess) -> None:
    """After a restart every object and resourceVersion is intact and a watch resumes exactly."""
    fresh_server.start()
    async with session(fresh_server) as s:
        created = []
        for i in range(5):
            async with s.post(URL, json=configmap(f"c{i}", v=str(i))) as r:
                assert r.status == 201
                created.append(await r.json())
        resume_from = created[1]["metadata"]["resourceVersion"]
    fresh_server.stop()
    fresh_server.start()
    async with session(fresh_server) as s:
        for obj in created:
            async with s.get(f"{URL}/{obj['metadata']['name']}") as r:
                assert await r.json() == obj
        events = await watch_lines(s, f"{URL}?watch=true&resourceVersion={resume_from}", count=3)
        assert [e["type"] for e in events] == ["ADDED"] * 3
        assert [e["object"]["metadata"]["name"] for e in events] == ["c2", "c3", "c4"]
        async with s.post(URL, json=configmap("after")) as r:
            after = await r.json()
        assert int(after["metadata"]["resourceVersion"]) > int(created[-1]["metadata"]["resourceVersion"])


async def test_watch_from_compacted_revision_is_gone(fresh_server: ServerProcess) -> None:
    """Once compaction passes a revision, a watch from it gets 410 Expired (clients then re-list)."""
    fresh_server.extra_args = [
        "--compaction-interval",
        "0.2",
        "--compaction-retention-seconds",
        "0",
        "--compaction-retention-events",
        "3",
    ]
    fresh_server.start()
    async with session(fresh_server) as s:
        async with s.post(URL, json=configmap("first")) as r:
            first_rv = (await r.json())["metadata"]["resourceVersion"]
        for i in range(10):
            async with s.post(URL, json=configmap(f"more{i}")) as r:
                assert r.status == 201
        await asyncio.sleep(1.0)
        async with s.get(f"{URL}?watch=true&resourceVersion={first_rv}") as r:
            assert r.status == 410
            status = await r.json()
        assert status["reason"] == "Expired" and status["code"] == 410
        async with s.get(f"{URL}?resourceVersion={first_rv}&resourceVersionMatch=Exact") as r:
            assert r.status == 410
        # A fresh list-then-watch still works.
        async with s.get(URL) as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        watch = asyncio.create_task(watch_lines(s, f"{URL}?watch=true&resourceVersion={rv}", count=1))
        await asyncio.sleep(0.2)
        async with s.post(URL, json=configmap("latest")) as r:
            assert r.status == 201
        events = await watch
        assert events[0]["object"]["metadata"]["name"] == "latest"


async def test_continue_token_expires_after_compaction(fresh_server: ServerProcess) -> None:
    """A continue token older than the compaction horizon answers 410 with advice to re-list."""
    fresh_server.extra_args = [
        "--compaction-interval",
        "0.2",
        "--compaction-retention-seconds",
        "0",
        "--compaction-retention-events",
        "2",
    ]
    fresh_server.start()
    async with session(fresh_server) as s:
        for i in range(4):
            async with s.post(URL, json=configmap(f"c{i}")) as r:
                assert r.status == 201
        async with s.get(f"{URL}?limit=2") as r:
            token = (await r.json())["metadata"]["continue"]
        for i in range(6):
            async with s.post(URL, json=configmap(f"n{i}")) as r:
                assert r.status == 201
        await asyncio.sleep(1.0)
        async with s.get(f"{URL}?limit=2&continue={token}") as r:
            assert r.status == 410
            assert "continue" in (await r.json())["message"]
