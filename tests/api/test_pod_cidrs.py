"""Nodes get pod CIDRs in the write path: distinct, kept across restarts, freed on delete, checked when asked for."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.support.client import session
from tests.support.servers import ServerProcess

NODES = "/api/v1/nodes"
MERGE = {"Content-Type": "application/merge-patch+json"}


def node(name: str, **spec: Any) -> dict[str, Any]:
    """A Node as the agent registers it: no spec.podCIDR, status included."""
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    if spec:
        body["spec"] = spec
    return body


async def post(s: aiohttp.ClientSession, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with s.post(NODES, json=body) as r:
        return r.status, await r.json()


async def cidr_of(s: aiohttp.ClientSession, name: str) -> str:
    async with s.get(f"{NODES}/{name}") as r:
        return str((await r.json())["spec"]["podCIDR"])


async def test_pod_cidrs_lifecycle(fresh_server: ServerProcess) -> None:
    """Distinct lowest-first CIDRs in the create response, the same after a restart, reused after a delete."""
    fresh_server.start()
    async with session(fresh_server) as s:
        results = await asyncio.gather(*(post(s, node(f"n{i}")) for i in range(5)))
        assert all(code == 201 for code, _ in results), results
        given = {made["metadata"]["name"]: made["spec"]["podCIDR"] for _, made in results}
        assert sorted(given.values()) == sorted(f"10.42.{i}.0/24" for i in range(5))
        assert all(made["spec"]["podCIDRs"] == [made["spec"]["podCIDR"]] for _, made in results)
    fresh_server.stop()
    fresh_server.start()
    async with session(fresh_server) as s:
        assert {name: await cidr_of(s, name) for name in given} == given
        code, sixth = await post(s, node("n5"))
        assert code == 201 and sixth["spec"]["podCIDR"] == "10.42.5.0/24"
        freed = given["n2"]
        async with s.delete(f"{NODES}/n2") as r:
            assert r.status == 200
        # The informer frees the block once it sees the delete: moments later at most.
        for _ in range(100):
            code, again = await post(s, node("n2-again", podCIDR=freed))
            if code == 201:
                break
            await asyncio.sleep(0.05)
        assert code == 201 and again["spec"]["podCIDR"] == freed, again


async def test_requested_cidrs_are_checked(fresh_server: ServerProcess) -> None:
    """A free /24 of the cluster CIDR is honoured; outside, wrong size or taken is 422 with the reason."""
    fresh_server.start()
    async with session(fresh_server) as s:
        code, made = await post(s, node("asked", podCIDR="10.42.77.0/24"))
        assert code == 201 and made["spec"]["podCIDRs"] == ["10.42.77.0/24"]
        code, made = await post(s, node("plain"))
        assert code == 201 and made["spec"]["podCIDR"] == "10.42.0.0/24"
        refused = {
            "10.99.0.0/24": "the pod CIDR must be inside the cluster CIDR 10.42.0.0/16",
            "10.42.80.0/23": "the pod CIDR must be a /24",
            "10.42.77.0/24": 'the pod CIDR is already allocated to node "asked"',
        }
        for i, (cidr, reason) in enumerate(refused.items()):
            code, status = await post(s, node(f"bad{i}", podCIDR=cidr))
            assert code == 422, status
            (cause,) = status["details"]["causes"]
            assert cause["field"] == "spec.podCIDR" and reason in cause["message"], cause
            assert reason in status["message"]


async def test_cidr_cannot_be_changed_or_dropped(fresh_server: ServerProcess) -> None:
    """Once given, a node's CIDR stays: a patch to another one is refused."""
    fresh_server.start()
    async with session(fresh_server) as s:
        code, made = await post(s, node("n"))
        assert code == 201
        async with s.patch(f"{NODES}/n", json={"spec": {"podCIDR": "10.42.9.0/24"}}, headers=MERGE) as r:
            assert r.status == 422, await r.text()
        async with s.patch(f"{NODES}/n", json={"metadata": {"labels": {"a": "b"}}}, headers=MERGE) as r:
            assert r.status == 200 and (await r.json())["spec"]["podCIDR"] == made["spec"]["podCIDR"]
