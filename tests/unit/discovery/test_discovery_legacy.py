"""Legacy discovery: APIVersions, APIGroupList, APIGroup and APIResourceList documents."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from edgekube.api.discovery import api_group_list
from edgekube.resources.registry import Registry
from edgekube.resources.strategy import Kind, Strategy

Client = TestClient[web.Request, web.Application]


async def _get(client: Client, path: str, accept: str = "application/json") -> Any:
    resp = await client.get(path, headers={"Accept": accept})
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "application/json"
    return await resp.json()


async def test_api_lists_v1(client: Client) -> None:
    """`/api` is an APIVersions with v1 and the advertised server address."""
    doc = await _get(client, "/api")
    assert doc["kind"] == "APIVersions"
    assert doc["versions"] == ["v1"]
    assert doc["serverAddressByClientCIDRs"] == [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
    ]


async def test_apis_lists_named_groups(client: Client) -> None:
    """`/apis` lists each named group with its versions and preferred version, not the core."""
    doc = await _get(client, "/apis")
    assert doc["kind"] == "APIGroupList"
    groups = {g["name"]: g for g in doc["groups"]}
    assert "" not in groups
    assert groups["apps"]["versions"] == [{"groupVersion": "apps/v1", "version": "v1"}]
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert "coordination.k8s.io" in groups


async def test_apis_group(client: Client) -> None:
    """`/apis/apps` is the APIGroup of apps."""
    doc = await _get(client, "/apis/apps")
    assert doc["kind"] == "APIGroup" and doc["name"] == "apps"


async def test_missing_accept_is_legacy(client: Client) -> None:
    """A request without Accept gets the legacy document."""
    resp = await client.get("/apis", skip_auto_headers=["Accept"])
    assert resp.headers["Content-Type"] == "application/json"
    assert (await resp.json())["kind"] == "APIGroupList"


def _by_name(doc: Any) -> dict[str, Any]:
    return {r["name"]: r for r in doc["resources"]}


@pytest.mark.parametrize(
    ("path", "name", "expected"),
    [
        (
            "/api/v1",
            "pods",
            {
                "kind": "Pod",
                "namespaced": True,
                "singularName": "pod",
                "shortNames": ["po"],
                "categories": ["all"],
            },
        ),
        ("/api/v1", "pods/status", {"kind": "Pod", "verbs": ["get", "patch", "update"]}),
        ("/api/v1", "pods/binding", {"kind": "Binding", "verbs": ["create"]}),
        ("/api/v1", "pods/log", {"kind": "Pod", "verbs": ["get"]}),
        ("/api/v1", "pods/exec", {"kind": "PodExecOptions", "verbs": ["create", "get"]}),
        (
            "/api/v1",
            "pods/eviction",
            {"kind": "Eviction", "group": "policy", "version": "v1", "verbs": ["create"]},
        ),
        ("/api/v1", "nodes", {"kind": "Node", "namespaced": False, "shortNames": ["no"]}),
        ("/api/v1", "nodes/status", {"namespaced": False}),
        ("/api/v1", "namespaces", {"namespaced": False, "shortNames": ["ns"]}),
        ("/apis/apps/v1", "deployments", {"kind": "Deployment", "shortNames": ["deploy"]}),
        ("/apis/apps/v1", "deployments/status", {"kind": "Deployment"}),
        (
            "/apis/apps/v1",
            "deployments/scale",
            {
                "kind": "Scale",
                "group": "autoscaling",
                "version": "v1",
                "verbs": ["get", "patch", "update"],
            },
        ),
        ("/apis/apps/v1", "replicasets/scale", {"kind": "Scale", "group": "autoscaling"}),
    ],
)
async def test_resource_entries(
    client: Client, path: str, name: str, expected: dict[str, Any]
) -> None:
    """Kinds and subresources appear with the fields kubectl reads."""
    doc = await _get(client, path)
    assert doc["kind"] == "APIResourceList"
    entry = _by_name(doc)[name]
    assert {k: entry.get(k) for k in expected} == expected


async def test_kinds_have_full_verbs_and_hash(client: Client) -> None:
    """Each kind lists the usual verbs and a storage version hash."""
    pods = _by_name(await _get(client, "/api/v1"))["pods"]
    assert pods["verbs"] == [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    assert len(pods["storageVersionHash"]) == 12


async def test_group_version_of_list(client: Client) -> None:
    """`groupVersion` is `v1` for the core group and `group/version` otherwise."""
    assert (await _get(client, "/api/v1"))["groupVersion"] == "v1"
    assert (await _get(client, "/apis/apps/v1"))["groupVersion"] == "apps/v1"


async def test_no_scale_where_not_served(client: Client) -> None:
    """Kinds without status or scale have no such subresources."""
    names = _by_name(await _get(client, "/api/v1"))
    assert "configmaps/status" not in names
    assert "pods/scale" not in names


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/apis/nope/v1", '"nope/v1"'),
        ("/apis/apps/v9", '"apps/v9"'),
        ("/api/v2", '"v2"'),
        ("/apis/nope", '"nope"'),
    ],
)
async def test_unknown_is_not_found(client: Client, path: str, named: str) -> None:
    """An unserved group or version is a 404 Status naming it."""
    resp = await client.get(path)
    assert resp.status == 404
    status = await resp.json()
    assert status["kind"] == "Status" and status["reason"] == "NotFound"
    assert named in status["message"]


async def test_etag_revalidation(client: Client) -> None:
    """A repeated request with the ETag gets 304 and no body."""
    first = await client.get("/api/v1")
    etag = first.headers["ETag"]
    assert first.headers["Vary"] == "Accept"
    again = await client.get("/api/v1", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""


def _demo(version: str) -> Strategy:
    return Strategy(Kind("demo.io", version, "Widget", "widgets", "widget", namespaced=True))


@pytest.mark.parametrize(
    ("served", "order"),
    [
        (["v1beta1", "v1"], ["v1", "v1beta1"]),
        (["v1alpha1", "v1beta2", "v1beta1"], ["v1beta2", "v1beta1", "v1alpha1"]),
        (["v1", "v2", "v2alpha1"], ["v2", "v1", "v2alpha1"]),
    ],
)
def test_versions_in_preference_order(served: list[str], order: list[str]) -> None:
    """Versions are listed GA first, then beta, then alpha, newest first; the first is preferred."""
    doc = api_group_list(Registry([_demo(v) for v in served]))
    [group] = doc["groups"]
    assert [v["version"] for v in group["versions"]] == order
    assert group["preferredVersion"]["version"] == order[0]
