"""Aggregated discovery (APIGroupDiscoveryList), as kubectl 1.32 asks for it first."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from edgekube.api.discovery import aggregated_media_type

Client = TestClient[web.Request, web.Application]
KUBECTL_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)


async def _get(client: Client, path: str, accept: str = KUBECTL_ACCEPT) -> tuple[str, Any]:
    resp = await client.get(path, headers={"Accept": accept})
    assert resp.status == 200, await resp.text()
    return resp.headers["Content-Type"], await resp.json(content_type=None)


@pytest.mark.parametrize("path", ["/api", "/apis"])
@pytest.mark.parametrize("version", ["v2", "v2beta1"])
async def test_content_type_is_exact(client: Client, path: str, version: str) -> None:
    """The Content-Type is exactly the aggregated media type asked for, and apiVersion matches."""
    content_type, doc = await _get(client, path, aggregated_media_type(version))
    assert (
        content_type
        == f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
    )
    assert doc["kind"] == "APIGroupDiscoveryList"
    assert doc["apiVersion"] == f"apidiscovery.k8s.io/{version}"


async def test_kubectl_accept_gets_v2(client: Client) -> None:
    """kubectl's Accept header (v2, v2beta1, json) gets v2."""
    content_type, _ = await _get(client, "/apis")
    assert content_type == aggregated_media_type("v2")


async def test_core_group(client: Client) -> None:
    """`/api` holds one item, the core group named "", with v1."""
    _, doc = await _get(client, "/api")
    [core] = doc["items"]
    assert core["metadata"]["name"] == ""
    assert [v["version"] for v in core["versions"]] == ["v1"]
    assert core["versions"][0]["freshness"] == "Current"


def _resources(doc: Any, group: str, version: str = "v1") -> dict[str, Any]:
    [item] = [i for i in doc["items"] if i["metadata"]["name"] == group]
    [ver] = [v for v in item["versions"] if v["version"] == version]
    return {r["resource"]: r for r in ver["resources"]}


async def test_pod_resource(client: Client) -> None:
    """Pods: kind, scope, singular, short names, categories and every subresource."""
    _, doc = await _get(client, "/api")
    pods = _resources(doc, "")["pods"]
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["scope"] == "Namespaced"
    assert pods["singularResource"] == "pod"
    assert pods["shortNames"] == ["po"] and pods["categories"] == ["all"]
    subs = {s["subresource"]: s for s in pods["subresources"]}
    assert sorted(subs) == ["binding", "eviction", "exec", "log", "status"]
    assert subs["eviction"]["responseKind"] == {
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
    }
    assert subs["status"]["verbs"] == ["get", "patch", "update"]


async def test_cluster_scope(client: Client) -> None:
    """Nodes and namespaces are cluster-scoped."""
    _, doc = await _get(client, "/api")
    resources = _resources(doc, "")
    assert resources["nodes"]["scope"] == "Cluster"
    assert resources["namespaces"]["scope"] == "Cluster"


async def test_deployment_scale(client: Client) -> None:
    """Deployments have status and an autoscaling/v1 Scale subresource."""
    _, doc = await _get(client, "/apis")
    deployments = _resources(doc, "apps")["deployments"]
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    subs = {s["subresource"]: s for s in deployments["subresources"]}
    assert subs["scale"]["responseKind"] == {
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
    }
    assert subs["scale"]["verbs"] == ["get", "patch", "update"]
    assert subs["status"]["responseKind"]["kind"] == "Deployment"


async def test_apis_has_no_core_group(client: Client) -> None:
    """`/apis` lists named groups only."""
    _, doc = await _get(client, "/apis")
    names = [i["metadata"]["name"] for i in doc["items"]]
    assert "" not in names and "apps" in names


async def test_same_url_answers_legacy_for_plain_json(client: Client) -> None:
    """Without the aggregated media type, the same URL answers the legacy document."""
    content_type, doc = await _get(client, "/apis", "application/json")
    assert content_type == "application/json"
    assert doc["kind"] == "APIGroupList"


async def test_not_acceptable(client: Client) -> None:
    """An Accept header naming nothing served is a 406 Status."""
    resp = await client.get("/apis", headers={"Accept": "application/yaml"})
    assert resp.status == 406
    assert (await resp.json())["reason"] == "NotAcceptable"
