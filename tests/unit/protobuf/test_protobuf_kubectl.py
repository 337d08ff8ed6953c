"""The real kubectl's protobuf request bodies decode to the object kubectl prints for the same command.

A small aiohttp server on 127.0.0.1 serves just enough discovery for kubectl, keeps every POST
body it receives and answers 201 with the decoded object. Each command runs twice: once for
real, to capture the protobuf body, and once with `--dry-run=client -o json`, to see the
object kubectl built; the two must match.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from edgekube.api.protobuf import MAGIC, MEDIA_TYPE, decode_protobuf, is_protobuf
from tests.support.tools import require_kubectl

Client = TestClient[web.Request, web.Application]

CORE = [
    ("configmaps", "ConfigMap", True),
    ("secrets", "Secret", True),
    ("namespaces", "Namespace", False),
    ("serviceaccounts", "ServiceAccount", True),
    ("services", "Service", True),
]
APPS = [("deployments", "Deployment", True)]


@dataclass(frozen=True)
class Captured:
    """One POST as the server received it."""

    path: str
    content_type: str
    body: bytes


CAPTURED = web.AppKey("captured", list[Captured])


def _resource_list(group_version: str, resources: list[tuple[str, str, bool]]) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": name,
                "singularName": "",
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["create", "get", "list"],
            }
            for name, kind, namespaced in resources
        ],
    }


async def _api(request: web.Request) -> web.Response:
    return web.json_response({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})


async def _apis(request: web.Request) -> web.Response:
    apps = {"groupVersion": "apps/v1", "version": "v1"}
    group = {"name": "apps", "versions": [apps], "preferredVersion": apps}
    return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]})


async def _core(request: web.Request) -> web.Response:
    return web.json_response(_resource_list("v1", CORE))


async def _apps(request: web.Request) -> web.Response:
    return web.json_response(_resource_list("apps/v1", APPS))


async def _version(request: web.Request) -> web.Response:
    return web.json_response({"major": "1", "minor": "32", "gitVersion": "v1.32.0"})


async def _create(request: web.Request) -> web.Response:
    body = await request.read()
    content_type = request.headers.get("Content-Type", "")
    request.app[CAPTURED].append(Captured(request.path, content_type, body))
    obj = decode_protobuf(body) if is_protobuf(content_type) else json.loads(body)
    return web.json_response(obj, status=201)


def capture_app() -> web.Application:
    app = web.Application()
    app[CAPTURED] = []
    app.router.add_get("/version", _version)
    app.router.add_get("/api", _api)
    app.router.add_get("/apis", _apis)
    app.router.add_get("/api/v1", _core)
    app.router.add_get("/apis/apps/v1", _apps)
    app.router.add_post("/{path:.*}", _create)
    return app


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with TestClient(TestServer(capture_app(), host="127.0.0.1")) as test_client:
        yield test_client


async def _kubectl(client: Client, tmp_path: Path, *args: str) -> str:
    """Run kubectl against the capture server over plain HTTP without auth; return stdout."""
    config = tmp_path / "kubeconfig"
    server = str(client.make_url("")).rstrip("/")
    config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "t", "cluster": {"server": server}}],
                "users": [{"name": "t", "user": {}}],
                "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
                "current-context": "t",
            }
        )
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        require_kubectl(),
        "--kubeconfig",
        str(config),
        "--cache-dir",
        str(tmp_path / "cache"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, f"kubectl {' '.join(args)} failed: {err.decode()}"
    return out.decode()


def _without_empty(value: Any) -> Any:
    """Go's JSON output less what carries no data: nulls, "", {} and [] under object keys.

    kubectl prints non-omitempty empty structs (`"resources": {}`, `"status": {}`) and
    `"creationTimestamp": null`; the decoder leaves those out, as the zero values they are.
    """
    if isinstance(value, dict):
        pruned = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


CASES = {
    "configmap": (["create", "configmap", "x", "--from-literal", "a=b", "--from-literal", "c=two words"], "default"),
    "secret-generic": (["create", "secret", "generic", "s", "--from-literal", "a=b", "--type", "Opaque"], "default"),
    "secret-docker-registry": (
        [
            "create",
            "secret",
            "docker-registry",
            "r",
            "--docker-server=x.io",
            "--docker-username=u",
            "--docker-password=p",
        ],
        "default",
    ),
    "deployment": (["create", "deployment", "d", "--image=busybox", "--replicas=3"], "default"),
    "deployment-zero-replicas": (
        ["create", "deployment", "d0", "--image=nginx", "--replicas=0", "--port=8080", "--", "sleep", "10"],
        "default",
    ),
    "namespace": (["create", "namespace", "team-a"], None),
    "serviceaccount": (["create", "serviceaccount", "sa"], "default"),
    "service-clusterip": (["create", "service", "clusterip", "s", "--tcp=80:8080"], "default"),
    "service-nodeport": (["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"], "default"),
}


@pytest.mark.parametrize(("args", "namespace"), CASES.values(), ids=CASES.keys())
async def test_kubectl_create_sends_protobuf(
    client: Client, tmp_path: Path, args: list[str], namespace: str | None
) -> None:
    """kubectl POSTs protobuf, and it decodes to the object `--dry-run=client -o json` prints."""
    scope = ["-n", namespace] if namespace else []
    expected = json.loads(
        await _kubectl(client, tmp_path, *args[:3], *scope, "--dry-run=client", "-o", "json", *args[3:])
    )
    printed = await _kubectl(client, tmp_path, *args[:3], *scope, *args[3:])
    assert "created" in printed

    captured = client.app[CAPTURED]
    assert len(captured) == 1, [c.path for c in captured]
    post = captured[0]
    assert post.content_type == MEDIA_TYPE
    assert post.body.startswith(MAGIC)
    decoded = decode_protobuf(post.body)
    assert decoded == _without_empty(expected)
    assert list(decoded)[:2] == ["apiVersion", "kind"]
