"""Kubernetes object semantics over real HTTP: names, dry runs, subresources, deletion, lists."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from tests.support.client import configmap, session, watch_lines
from tests.support.servers import ServerProcess

CMS = "/api/v1/namespaces/{ns}/configmaps"
DEPLOYS = "/apis/apps/v1/namespaces/{ns}/deployments"


def deployment(name: str, replicas: int = 1, image: str = "localhost/busybox:1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


async def test_generate_name(http: aiohttp.ClientSession, namespace: str) -> None:
    """generateName gets a random 5-character suffix; each create gets a new name."""
    names = set()
    for _ in range(3):
        async with http.post(CMS.format(ns=namespace), json={"metadata": {"generateName": "job-"}}) as r:
            assert r.status == 201
            name = (await r.json())["metadata"]["name"]
        assert name.startswith("job-") and len(name) == 9
        names.add(name)
    assert len(names) == 3


async def test_dry_run_stores_nothing(http: aiohttp.ClientSession, namespace: str) -> None:
    """dryRun=All validates and answers like a create but stores nothing."""
    url = CMS.format(ns=namespace)
    async with http.post(f"{url}?dryRun=All", json=configmap("dry")) as r:
        assert r.status == 201
        assert (await r.json())["metadata"]["name"] == "dry"
    async with http.get(f"{url}/dry") as r:
        assert r.status == 404


async def test_status_and_spec_are_written_apart(fresh_server: ServerProcess) -> None:
    """A main-resource write keeps status; a status write keeps spec; only spec bumps generation."""
    # No controllers: the Deployment controller would write this status too.
    fresh_server.extra_args = ["--disable-controllers"]
    fresh_server.start()
    async with session(fresh_server) as http:
        await _status_and_spec_apart(http, DEPLOYS.format(ns="default"))


async def _status_and_spec_apart(http: aiohttp.ClientSession, url: str) -> None:
    async with http.post(url, json={**deployment("d"), "status": {"replicas": 9}}) as r:
        created = await r.json()
    assert created.get("status", {}).get("replicas") is None
    assert created["metadata"]["generation"] == 1
    patch = {"status": {"replicas": 3, "observedGeneration": 1}, "spec": {"replicas": 7}}
    async with http.patch(f"{url}/d/status", json=patch, headers={"Content-Type": "application/merge-patch+json"}) as r:
        assert r.status == 200, await r.text()
        after_status = await r.json()
    assert after_status["status"]["replicas"] == 3 and after_status["spec"]["replicas"] == 1
    assert after_status["metadata"]["generation"] == 1
    spec_patch = {"spec": {"replicas": 4}, "status": {"replicas": 0}}
    async with http.patch(f"{url}/d", json=spec_patch, headers={"Content-Type": "application/merge-patch+json"}) as r:
        after_spec = await r.json()
    assert after_spec["spec"]["replicas"] == 4 and after_spec["status"]["replicas"] == 3
    assert after_spec["metadata"]["generation"] == 2
    label = {"metadata": {"labels": {"x": "y"}}}
    async with http.patch(f"{url}/d", json=label, headers={"Content-Type": "application/merge-patch+json"}) as r:
        assert (await r.json())["metadata"]["generation"] == 2


async def test_noop_update_writes_nothing(http: aiohttp.ClientSession, namespace: str) -> None:
    """A patch that changes nothing keeps the resourceVersion."""
    url = CMS.format(ns=namespace)
    async with http.post(url, json=configmap("same", a="1")) as r:
        rv = (await r.json())["metadata"]["resourceVersion"]
    patch = {"data": {"a": "1"}}
    async with http.patch(f"{url}/same", json=patch, headers={"Content-Type": "application/merge-patch+json"}) as r:
        assert (await r.json())["metadata"]["resourceVersion"] == rv


async def test_finalizers_hold_deletion(http: aiohttp.ClientSession, namespace: str) -> None:
    """An object with a finalizer stays with deletionTimestamp until the finalizer is removed."""
    url = CMS.format(ns=namespace)
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    async with http.post(url, json=body) as r:
        assert r.status == 201
    async with http.delete(f"{url}/held") as r:
        assert r.status == 202
        marked = await r.json()
    assert marked["metadata"]["deletionTimestamp"]
    async with http.get(f"{url}/held") as r:
        assert r.status == 200
    release = [{"op": "remove", "path": "/metadata/finalizers"}]
    async with http.patch(f"{url}/held", json=release, headers={"Content-Type": "application/json-patch+json"}) as r:
        assert r.status == 200, await r.text()
    async with http.get(f"{url}/held") as r:
        assert r.status == 404


async def test_delete_preconditions(http: aiohttp.ClientSession, namespace: str) -> None:
    """A delete naming the wrong uid or resourceVersion is 409 and deletes nothing."""
    url = CMS.format(ns=namespace)
    async with http.post(url, json=configmap("pre")) as r:
        created = await r.json()
    for pre in ({"uid": "wrong"}, {"resourceVersion": "1"}):
        async with http.delete(f"{url}/pre", json={"preconditions": pre}) as r:
            assert r.status == 409
            assert "Precondition failed" in (await r.json())["message"]
    async with http.delete(f"{url}/pre", json={"preconditions": {"uid": created["metadata"]["uid"]}}) as r:
        assert r.status == 200
    async with http.get(f"{url}/pre") as r:
        assert r.status == 404


async def test_delete_collection_by_label(http: aiohttp.ClientSession, namespace: str) -> None:
    """DELETE on a collection removes exactly what the label selector picks."""
    url = CMS.format(ns=namespace)
    for i in range(4):
        body = configmap(f"c{i}")
        body["metadata"]["labels"] = {"group": "a" if i % 2 else "b"}
        async with http.post(url, json=body) as r:
            assert r.status == 201
    async with http.delete(f"{url}?labelSelector=group%3Da") as r:
        assert r.status == 200
        assert sorted(i["metadata"]["name"] for i in (await r.json())["items"]) == ["c1", "c3"]
    async with http.get(url) as r:
        assert sorted(i["metadata"]["name"] for i in (await r.json())["items"]) == ["c0", "c2"]


async def test_label_selectors(http: aiohttp.ClientSession, namespace: str) -> None:
    """Equality and set-based selectors pick the right objects."""
    url = CMS.format(ns=namespace)
    for name, labels in [("a", {"env": "prod", "tier": "web"}), ("b", {"env": "dev"}), ("c", {"tier": "db"})]:
        body = configmap(name)
        body["metadata"]["labels"] = labels
        async with http.post(url, json=body) as r:
            assert r.status == 201
    cases = {
        "env=prod": ["a"],
        "env!=prod": ["b", "c"],
        "env in (prod,dev)": ["a", "b"],
        "env notin (prod)": ["b", "c"],
        "tier": ["a", "c"],
        "!tier": ["b"],
        "env,tier=web": ["a"],
    }
    for selector, expected in cases.items():
        async with http.get(url, params={"labelSelector": selector}) as r:
            got = sorted(i["metadata"]["name"] for i in (await r.json())["items"])
        assert got == expected, selector


async def test_pagination_is_one_snapshot(http: aiohttp.ClientSession, namespace: str) -> None:
    """Pages after the first show the list as of the first page, whatever changed meanwhile."""
    url = CMS.format(ns=namespace)
    for i in range(6):
        async with http.post(url, json=configmap(f"p{i}", v="old")) as r:
            assert r.status == 201
    async with http.get(url, params={"limit": "2"}) as r:
        first = await r.json()
    async with http.post(url, json=configmap("p0a", v="new")) as r:
        assert r.status == 201
    async with http.delete(f"{url}/p5") as r:
        assert r.status == 200
    async with http.put(f"{url}/p4", json=configmap("p4", v="new")) as r:
        assert r.status == 200
    seen = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    values = []
    while token:
        async with http.get(url, params={"limit": "2", "continue": token}) as r:
            page = await r.json()
        seen += [i["metadata"]["name"] for i in page["items"]]
        values += [i["data"]["v"] for i in page["items"]]
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        token = page["metadata"].get("continue", "")
    assert seen == [f"p{i}" for i in range(6)]
    assert set(values) == {"old"}


async def test_watch_with_selector_sees_entries_and_exits(http: aiohttp.ClientSession, namespace: str) -> None:
    """An object that starts matching arrives as ADDED; one that stops matching leaves as DELETED."""
    url = CMS.format(ns=namespace)
    async with http.post(url, json=configmap("w")) as r:
        rv = (await r.json())["metadata"]["resourceVersion"]
    watch = asyncio.create_task(
        watch_lines(http, f"{url}?watch=true&labelSelector=on%3Dyes&resourceVersion={rv}", count=3)
    )
    await asyncio.sleep(0.2)
    merge = {"Content-Type": "application/merge-patch+json"}
    for patch in (
        {"metadata": {"labels": {"on": "yes"}}},
        {"data": {"x": "1"}},
        {"metadata": {"labels": {"on": "no"}}},
    ):
        async with http.patch(f"{url}/w", json=patch, headers=merge) as r:
            assert r.status == 200
    events = await watch
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]


async def test_watch_initial_state_bookmarks_and_timeout(http: aiohttp.ClientSession, namespace: str) -> None:
    """A watch without resourceVersion starts with the current objects; it ends at timeoutSeconds."""
    url = CMS.format(ns=namespace)
    for name in ("x", "y"):
        async with http.post(url, json=configmap(name)) as r:
            assert r.status == 201
    events = await watch_lines(http, f"{url}?watch=true&timeoutSeconds=1", count=10)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "x"), ("ADDED", "y")]
    async with http.get(url) as r:
        rv = (await r.json())["metadata"]["resourceVersion"]
    initial = await watch_lines(
        http,
        f"{url}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
        f"&resourceVersion={rv}&timeoutSeconds=1",
        count=3,
    )
    assert [e["type"] for e in initial] == ["ADDED", "ADDED", "BOOKMARK"]
    assert initial[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


async def test_table_watch(http: aiohttp.ClientSession, namespace: str) -> None:
    """Watches in Table form carry one row per event, as `kubectl get -w` reads them."""
    url = CMS.format(ns=namespace)
    table = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    async with http.get(url, headers=table) as r:
        body = await r.json()
    assert body["kind"] == "Table" and body["columnDefinitions"][0]["name"] == "Name"
    rv = body["metadata"]["resourceVersion"]

    async def read() -> list[dict[str, Any]]:
        out = []
        async with http.get(f"{url}?watch=true&resourceVersion={rv}", headers=table) as r:
            async for line in r.content:
                if line.strip():
                    out.append(orjson.loads(line))
                    break
        return out

    task = asyncio.create_task(read())
    await asyncio.sleep(0.2)
    async with http.post(url, json=configmap("tw")) as r:
        assert r.status == 201
    (event,) = await task
    assert event["type"] == "ADDED" and event["object"]["kind"] == "Table"
    assert event["object"]["rows"][0]["cells"][0] == "tw"
