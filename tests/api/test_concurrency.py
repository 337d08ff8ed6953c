"""Optimistic concurrency: many read-modify-write loops on one object lose no update."""

from __future__ import annotations

import asyncio

import aiohttp

URL = "/api/v1/namespaces/{ns}/configmaps"
WRITERS = 50
INCREMENTS = 4


async def test_no_lost_update(http: aiohttp.ClientSession, namespace: str) -> None:
    """50 concurrent GET+PUT loops incrementing a counter: every success counts, conflicts are 409."""
    url = URL.format(ns=namespace)
    async with http.post(
        url, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counter"}, "data": {"n": "0"}}
    ) as r:
        assert r.status == 201
    conflicts = 0

    async def writer() -> None:
        nonlocal conflicts
        done = 0
        while done < INCREMENTS:
            async with http.get(f"{url}/counter") as r:
                obj = await r.json()
            obj["data"]["n"] = str(int(obj["data"]["n"]) + 1)
            async with http.put(f"{url}/counter", json=obj) as r:
                if r.status == 409:
                    body = await r.json()
                    assert body["reason"] == "Conflict"
                    conflicts += 1
                    continue
                assert r.status == 200, await r.text()
                done += 1

    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    async with http.get(f"{url}/counter") as r:
        final = await r.json()
    assert final["data"]["n"] == str(WRITERS * INCREMENTS)
    assert conflicts > 0
